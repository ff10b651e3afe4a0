package dev.pgpubsub.listener;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public method of a handler bean as the handler of a channel.
 *
 * <pre>{@code
 * public class OrderHandlers {
 *     @Listen("orders")
 *     public void onOrder(OrderPlaced order, TaskContext context) throws SQLException {
 *         // writes through context.connection() commit exactly once, with the task's deletion
 *     }
 * }
 * }</pre>
 *
 * <p>The method takes the channel's payload record and, optionally, a {@link TaskContext}, in either
 * order. The record type is the channel's payload type. One listener has at most one handler per
 * channel; to fan a task out, publish it to several channels. While it runs, the SLF4J MDC holds the
 * task's id, channel and attempt (see {@link TaskContext}).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Listen {

    /**
     * The channel name: ASCII letters, digits and underscores, starting with a letter or underscore.
     *
     * @return the name of the channel this method handles
     */
    String value();

    /**
     * Attempts in all before a task of this channel moves to the dead letters; 0 (the default) leaves
     * it to the listener's {@link RetryPolicy}.
     *
     * @return the attempts allowed in all, or 0 for the listener's policy
     */
    int maxAttempts() default 0;

    /**
     * How long one call of this handler may run before its transaction is aborted and the task
     * retried, e.g. {@code "30s"}, {@code "5m"} or {@code "PT1H"}; empty (the default) leaves it to
     * the listener's handler timeout.
     *
     * @return the timeout as text, or empty for the listener's
     */
    String timeout() default "";
}
