package dev.pgpubsub.spring;

/**
 * A {@code @Listen} bean the listener refused at start-up. The listener's own explanation is the
 * cause; {@link #problem()} says which kind of mistake it is, for the failure analysis that Spring
 * Boot prints instead of a stack trace.
 */
public class HandlerRegistrationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The kinds of mistake a handler bean can make. */
    public enum Problem {
        /** Two {@code @Listen} methods name one channel; a listener runs one handler per channel. */
        DUPLICATE_CHANNEL,
        /** A {@code @Listen} channel name breaks the naming rule, or is too long for the schema. */
        BAD_CHANNEL_NAME,
        /** A handler method's payload parameter is not a record, or it has none. */
        PAYLOAD_NOT_RECORD,
        /** The bean is an interface-based proxy whose interfaces do not declare a handler method. */
        METHOD_NOT_ON_PROXY,
        /** Anything else the listener refused (a method that is not public, say). */
        OTHER
    }

    /** The kind of mistake. */
    private final Problem problem;
    /** The refused bean's name. */
    private final String beanName;
    /** The class its {@code @Listen} methods were read on. */
    private final Class<?> beanClass;
    /** The channel concerned, or null. */
    private final String channel;
    /** The handler that already has the channel, or null. */
    private final String otherHandler;

    /**
     * An exception for one refused bean.
     *
     * @param problem      the kind of mistake
     * @param beanName     the bean's name
     * @param beanClass    the class its {@code @Listen} methods were read on (a proxy's target class)
     * @param channel      the channel concerned, or null
     * @param otherHandler for {@link Problem#DUPLICATE_CHANNEL}, the handler that already has the
     *                     channel; else null
     * @param cause        the listener's refusal
     */
    public HandlerRegistrationException(Problem problem, String beanName, Class<?> beanClass, String channel,
            String otherHandler, IllegalArgumentException cause) {
        super("Handler bean '" + beanName + "' (" + beanClass.getName() + ") is refused: " + cause.getMessage(), cause);
        this.problem = problem;
        this.beanName = beanName;
        this.beanClass = beanClass;
        this.channel = channel;
        this.otherHandler = otherHandler;
    }

    /**
     * The kind of mistake.
     *
     * @return the problem
     */
    public Problem problem() {
        return problem;
    }

    /**
     * The refused bean's name.
     *
     * @return the bean name
     */
    public String beanName() {
        return beanName;
    }

    /**
     * The class the bean's {@code @Listen} methods were read on.
     *
     * @return the bean's class, or its target class if it is a proxy
     */
    public Class<?> beanClass() {
        return beanClass;
    }

    /**
     * The channel concerned.
     *
     * @return the channel name, or null when no single channel is concerned
     */
    public String channel() {
        return channel;
    }

    /**
     * The handler that already has the channel, for {@link Problem#DUPLICATE_CHANNEL}.
     *
     * @return e.g. {@code bean 'orders' (com.acme.Orders.onOrder(OrderPlaced))}, or null
     */
    public String otherHandler() {
        return otherHandler;
    }

    /**
     * What the listener said, without the bean's name.
     *
     * @return the listener's message
     */
    public String detail() {
        return getCause().getMessage();
    }
}
