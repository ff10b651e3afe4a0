package dev.pgpubsub.listener;

/**
 * Marks a handler bean that the standalone listener process may discover with
 * {@link java.util.ServiceLoader}: implement it on a class with {@link Listen} methods and a public
 * no-argument constructor, and name the class in
 * {@code META-INF/services/dev.pgpubsub.listener.HandlerBean} in its jar. Embedded use needs none of
 * this: pass beans to {@link ListenerBuilder#handlers(Object...)}.
 */
public interface HandlerBean {
}
