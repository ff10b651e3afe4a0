package dev.pgpubsub.spring;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.ListenerBuilder;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.HandlerRegistrationException.Problem;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.aop.framework.autoproxy.AutoProxyUtils;
import org.springframework.aop.scope.ScopedProxyUtils;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.util.ClassUtils;

/**
 * Finds the beans with {@link Listen} methods, proxies included, and registers them with a listener
 * builder: the annotations are read on the target class, the calls go through the bean (the proxy),
 * so that its advice applies. Refusals are classified for the failure analysis.
 */
final class HandlerBeans {

    private static final Logger LOG = LoggerFactory.getLogger(HandlerBeans.class);

    /** Postgres's identifier limit, which the wake-up name {@code <schema>.<channel>} must fit. */
    private static final int MAX_IDENTIFIER_BYTES = 63;

    /** A bean to register: the object to call and the class its handler methods are declared on. */
    record Found(String name, Object bean, Class<?> declaredOn) {
    }

    /** Only for {@link #validChannelName}: a channel needs some record type. */
    private record Probe() {
    }

    private HandlerBeans() {
    }

    /**
     * Every singleton bean whose class (a proxy's target class) has {@link Listen} methods, in bean
     * definition order. Like Spring's own {@code @EventListener} discovery, it reads the target class
     * the auto-proxy creator recorded, so that the bean is not created only to look at it.
     */
    static List<Found> find(ConfigurableListableBeanFactory beanFactory) {
        List<Found> found = new ArrayList<>();
        for (String name : beanFactory.getBeanNamesForType(Object.class)) {
            if (ScopedProxyUtils.isScopedTarget(name)) {
                continue;
            }
            Class<?> type;
            try {
                type = AutoProxyUtils.determineTargetClass(beanFactory, name);
            } catch (RuntimeException e) {
                LOG.debug("Skipping bean '{}' in the search for @Listen beans: its type cannot be resolved", name, e);
                continue;
            }
            if (type == null) {
                continue;
            }
            if (Proxy.isProxyClass(type)) {
                if (!beanFactory.isSingleton(name)) {
                    continue;
                }
                type = AopProxyUtils.ultimateTargetClass(beanFactory.getBean(name));
            }
            type = ClassUtils.getUserClass(type);
            if (type.isInterface() || listenMethods(type).isEmpty()) {
                continue;
            }
            if (!beanFactory.isSingleton(name)) {
                throw new HandlerRegistrationException(Problem.OTHER, name, type, null, null, new IllegalArgumentException(
                        "Bean '" + name + "' has @Listen methods but is not a singleton: the listener calls one instance "
                                + "for every task. Make it a singleton (the default scope)."));
            }
            Object bean = beanFactory.getBean(name);
            Class<?> declaredOn = ClassUtils.getUserClass(AopProxyUtils.ultimateTargetClass(bean));
            found.add(new Found(name, bean, listenMethods(declaredOn).isEmpty() ? type : declaredOn));
        }
        return found;
    }

    /**
     * Registers every bean with {@code builder}; a refusal is rethrown as a
     * {@link HandlerRegistrationException} that says which kind of mistake it is.
     */
    static void register(List<Found> beans, ListenerBuilder builder) {
        Map<String, String> claimed = new HashMap<>();
        for (Found f : beans) {
            try {
                builder.handler(f.bean(), f.declaredOn());
            } catch (IllegalArgumentException e) {
                throw classify(f, e, claimed);
            }
            for (Method m : listenMethods(f.declaredOn())) {
                claimed.putIfAbsent(m.getAnnotation(Listen.class).value(), origin(f.name(), m));
            }
            LOG.debug("Registered the @Listen methods of bean '{}' ({})", f.name(), f.declaredOn().getName());
        }
    }

    /**
     * For a refusal of {@code ListenerBuilder.build()}: a handler whose channel is too long for the
     * schema is a {@link Problem#BAD_CHANNEL_NAME}; anything else (a setting) is not a handler's
     * mistake, and gives null.
     */
    static HandlerRegistrationException classifyBuild(List<Found> beans, IllegalArgumentException e, String schema) {
        int max = MAX_IDENTIFIER_BYTES - schema.length() - 1;
        for (Found f : beans) {
            for (Method m : listenMethods(f.declaredOn())) {
                String channel = m.getAnnotation(Listen.class).value();
                if (channel.length() > max) {
                    return new HandlerRegistrationException(Problem.BAD_CHANNEL_NAME, f.name(), f.declaredOn(), channel,
                            null, e);
                }
            }
        }
        return null;
    }

    /**
     * Which mistake made the listener refuse {@code f}: the same checks, in the listener's order,
     * made on the annotations alone. The listener's message stays the cause, with the details.
     */
    static HandlerRegistrationException classify(Found f, IllegalArgumentException e, Map<String, String> claimed) {
        List<Method> methods = listenMethods(f.declaredOn());
        for (Method m : methods) {
            Listen listen = m.getAnnotation(Listen.class);
            if (!Modifier.isPublic(m.getModifiers()) || Modifier.isStatic(m.getModifiers())) {
                return problem(Problem.OTHER, f, listen.value(), null, e);
            }
            if (!validChannelName(listen.value())) {
                return problem(Problem.BAD_CHANNEL_NAME, f, listen.value(), null, e);
            }
            if (!takesOneRecord(m)) {
                return problem(Problem.PAYLOAD_NOT_RECORD, f, listen.value(), null, e);
            }
            if (!m.getDeclaringClass().isInstance(f.bean()) && !hasPublicMethod(f.bean().getClass(), m)) {
                return problem(Problem.METHOD_NOT_ON_PROXY, f, listen.value(), null, e);
            }
            if (listen.maxAttempts() < 0) {
                return problem(Problem.OTHER, f, listen.value(), null, e);
            }
        }
        Map<String, Method> own = new LinkedHashMap<>();
        for (Method m : methods) {
            String channel = m.getAnnotation(Listen.class).value();
            if (claimed.containsKey(channel)) {
                return problem(Problem.DUPLICATE_CHANNEL, f, channel, claimed.get(channel), e);
            }
            Method before = own.putIfAbsent(channel, m);
            if (before != null) {
                return problem(Problem.DUPLICATE_CHANNEL, f, channel, origin(f.name(), before), e);
            }
        }
        return problem(Problem.OTHER, f, null, null, e);
    }

    private static HandlerRegistrationException problem(Problem problem, Found f, String channel, String other,
            IllegalArgumentException e) {
        return new HandlerRegistrationException(problem, f.name(), f.declaredOn(), channel, other, e);
    }

    /** The {@link Listen} methods of {@code type} and its superclasses, overridden ones left out. */
    static List<Method> listenMethods(Class<?> type) {
        List<Method> methods = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                boolean first = Modifier.isPrivate(m.getModifiers()) || seen.add(signature(m));
                if (m.isAnnotationPresent(Listen.class) && first && !m.isBridge() && !m.isSynthetic()) {
                    methods.add(m);
                }
            }
        }
        return methods;
    }

    private static String signature(Method m) {
        return m.getName() + Arrays.toString(m.getParameterTypes());
    }

    private static boolean validChannelName(String channel) {
        try {
            Channel.of(channel, Probe.class);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** A payload record, and at most a {@link TaskContext} besides. */
    private static boolean takesOneRecord(Method m) {
        int records = 0;
        int contexts = 0;
        for (Class<?> p : m.getParameterTypes()) {
            if (p == TaskContext.class && contexts == 0) {
                contexts++;
            } else if (Record.class.isAssignableFrom(p) && records == 0) {
                records++;
            } else {
                return false;
            }
        }
        return records == 1;
    }

    private static boolean hasPublicMethod(Class<?> type, Method m) {
        try {
            type.getMethod(m.getName(), m.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    static String origin(String beanName, Method m) {
        return "bean '" + beanName + "' (" + m.getDeclaringClass().getName() + "." + m.getName() + "("
                + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", ")) + "))";
    }
}
