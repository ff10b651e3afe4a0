package dev.pgpubsub.cli;

import dev.pgpubsub.listener.HandlerBean;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/** Creates the handler beans named in the configuration, and those discovered with ServiceLoader. */
final class HandlerLoader {

    private HandlerLoader() {
    }

    static List<Object> load(List<String> classNames, ClassLoader loader) {
        List<Object> beans = new ArrayList<>();
        for (String name : classNames) {
            beans.add(instantiate(name.trim(), loader));
        }
        try {
            for (HandlerBean bean : ServiceLoader.load(HandlerBean.class, loader)) {
                if (beans.stream().noneMatch(b -> b.getClass() == bean.getClass())) {
                    beans.add(bean);
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new ConfigError("A handler listed in META-INF/services/" + HandlerBean.class.getName()
                    + " could not be created: " + e.getMessage(), e);
        }
        if (beans.isEmpty()) {
            throw new ConfigError("No handlers: name handler classes with --handler (or " + ConfigSources.envName("handler")
                    + "), or list them in "
                    + "META-INF/services/" + HandlerBean.class.getName() + " of their jar, and put the jar in ext/");
        }
        return beans;
    }

    private static Object instantiate(String name, ClassLoader loader) {
        Class<?> type;
        try {
            type = Class.forName(name, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new ConfigError("Handler class '" + name + "' was not found: check the name, and put its jar (and its "
                    + "dependencies) in ext/ or on PGPUBSUB_CLASSPATH", e);
        }
        Constructor<?> constructor;
        try {
            constructor = type.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new ConfigError("Handler class '" + name + "' has no public no-argument constructor: add one "
                    + "(the process creates the bean itself)", e);
        }
        if (Modifier.isAbstract(type.getModifiers())) {
            throw new ConfigError("Handler class '" + name + "' is abstract: name a concrete class");
        }
        try {
            return constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw new ConfigError("Handler class '" + name + "' failed in its constructor: " + e.getCause(), e);
        } catch (ReflectiveOperationException e) {
            throw new ConfigError("Handler class '" + name + "' could not be created: " + e.getMessage(), e);
        }
    }
}
