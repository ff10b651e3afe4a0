package dev.pgpubsub.listener.internal.dispatch;

import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.listener.Handler;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.RowChange;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.listener.internal.Durations;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Finds the {@link Listen} methods of a handler bean and checks each, up front. */
public final class HandlerScanner {

    private HandlerScanner() {
    }

    /** The handlers of {@code bean}; throws naming the class, the method and the fix when one is wrong. */
    public static List<RegisteredHandler> scan(Object bean) {
        if (bean == null) {
            throw new IllegalArgumentException("A handler bean is null: pass an object with @Listen methods");
        }
        return scan(bean, bean.getClass());
    }

    /**
     * The handlers of {@code bean} whose {@link Listen} methods are declared on {@code declaredOn}
     * (a proxy's target class): each is called on {@code bean}, so that the proxy's advice runs.
     * A bean that is an instance of {@code declaredOn} (a subclassing proxy) is called through the
     * method itself; any other (an interface-based proxy) through its own public method of the same
     * name and parameters, which it must have.
     */
    public static List<RegisteredHandler> scan(Object bean, Class<?> declaredOn) {
        if (bean == null) {
            throw new IllegalArgumentException("A handler bean is null: pass an object with @Listen methods");
        }
        if (declaredOn == null) {
            throw new IllegalArgumentException("The class that declares the @Listen methods of bean " + bean.getClass().getName()
                    + " is null: pass the bean's own class, or its target class if the bean is a proxy");
        }
        if (declaredOn.isInterface() || declaredOn.isPrimitive() || declaredOn.isArray()) {
            throw new IllegalArgumentException("The @Listen methods of bean " + bean.getClass().getName() + " are to be read on "
                    + declaredOn.getName() + ", which is not a class: pass the class the methods are declared on");
        }
        Class<?> type = declaredOn;
        List<RegisteredHandler> found = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                Listen listen = method.getAnnotation(Listen.class);
                if (listen != null && !overridden(type, c, method)) {
                    found.add(handler(bean, declaredOn, method, listen));
                }
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("Class " + type.getName() + " has no method annotated @Listen: annotate a "
                    + "public method, e.g. @Listen(\"orders\") public void onOrder(OrderPlaced order, TaskContext context)");
        }
        return found;
    }

    private static boolean overridden(Class<?> type, Class<?> declaring, Method method) {
        if (declaring == type || Modifier.isPrivate(method.getModifiers())) {
            return false;
        }
        try {
            return type.getMethod(method.getName(), method.getParameterTypes()).getDeclaringClass() != declaring;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /**
     * The method to call on {@code bean} for the handler method {@code method} of {@code declaredOn}:
     * the method itself when the bean is an instance of its class, else the bean's public method of
     * the same signature (a JDK proxy has one exactly for the methods of the interfaces it implements).
     */
    private static Method invocable(Object bean, Class<?> declaredOn, Method method) {
        if (method.getDeclaringClass().isInstance(bean)) {
            return method;
        }
        try {
            return bean.getClass().getMethod(method.getName(), method.getParameterTypes());
        } catch (NoSuchMethodException e) {
            String hint = Proxy.isProxyClass(bean.getClass())
                    ? "The bean is an interface-based proxy of " + Arrays.toString(bean.getClass().getInterfaces())
                            + ": declare the method on one of those interfaces, or have the class itself proxied "
                            + "(a subclassing proxy)"
                    : "Pass the bean's own class, or the target class of the proxy the bean is";
            throw new IllegalArgumentException("Handler method " + describe(method) + " cannot be called on bean "
                    + bean.getClass().getName() + ", which is not a " + declaredOn.getName()
                    + " and has no public method of that name and parameters. " + hint + ".", e);
        }
    }

    private static RegisteredHandler handler(Object bean, Class<?> declaredOn, Method method, Listen listen) {
        String where = describe(method);
        if (!Modifier.isPublic(method.getModifiers())) {
            throw new IllegalArgumentException("Handler method " + where + " is not public: make it public so that "
                    + "pgpubsub may call it");
        }
        if (Modifier.isStatic(method.getModifiers())) {
            throw new IllegalArgumentException("Handler method " + where + " is static: make it an instance method of the bean");
        }
        String channel;
        try {
            channel = Names.requireChannel(listen.value());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("@Listen on " + where + ": " + e.getMessage(), e);
        }
        Class<?>[] params = method.getParameterTypes();
        int payloadIndex = -1;
        int contextIndex = -1;
        for (int i = 0; i < params.length; i++) {
            if (params[i] == TaskContext.class && contextIndex < 0) {
                contextIndex = i;
            } else if (Record.class.isAssignableFrom(params[i]) && payloadIndex < 0) {
                payloadIndex = i;
            } else {
                throw new IllegalArgumentException("Parameter " + (i + 1) + " of handler method " + where + " is a "
                        + params[i].getName() + ": a handler takes the channel's payload record and, optionally, a "
                        + TaskContext.class.getName() + " (e.g. onOrder(OrderPlaced order, TaskContext context))");
            }
        }
        if (payloadIndex < 0) {
            throw new IllegalArgumentException("Handler method " + where + " has no payload parameter: add the record "
                    + "type of channel '" + channel + "' as a parameter (e.g. onOrder(OrderPlaced order))");
        }
        java.lang.reflect.Type payloadType = method.getGenericParameterTypes()[payloadIndex];
        if (params[payloadIndex] == RowChange.class && !(payloadType instanceof java.lang.reflect.ParameterizedType p
                && p.getActualTypeArguments()[0] instanceof Class<?>)) {
            throw new IllegalArgumentException("Handler method " + where + " takes a RowChange without its row type: "
                    + "write RowChange<YourRowRecord> so that rows can be mapped");
        }
        Method target = invocable(bean, declaredOn, method);
        // Public methods of non-public classes (e.g. nested beans, proxies of non-public interfaces) are
        // reachable once made accessible; a public proxy class's are reachable as they are.
        target.trySetAccessible();
        int payloadAt = payloadIndex;
        int contextAt = contextIndex;
        int arity = params.length;
        Handler<Record> invoker = (payload, context) -> {
            Object[] args = new Object[arity];
            args[payloadAt] = payload;
            if (contextAt >= 0) {
                args[contextAt] = context;
            }
            try {
                target.invoke(bean, args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                throw (Error) cause;
            }
        };
        if (listen.maxAttempts() < 0) {
            throw new IllegalArgumentException("@Listen on " + where + " has maxAttempts = " + listen.maxAttempts()
                    + ": give 1 or more, or leave it out for the listener's retry policy");
        }
        Duration timeout = null;
        if (!listen.timeout().isBlank()) {
            try {
                timeout = Durations.parse(listen.timeout());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("@Listen on " + where + " has timeout = \"" + listen.timeout() + "\": "
                        + e.getMessage(), e);
            }
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("@Listen on " + where + " has timeout = \"" + listen.timeout()
                        + "\": give a positive duration, e.g. \"30s\"");
            }
        }
        return new RegisteredHandler(channel, payloadType, invoker, where, listen.maxAttempts(), timeout);
    }

    static String describe(Method method) {
        return method.getDeclaringClass().getName() + "." + method.getName() + "("
                + Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", ")) + ")";
    }
}
