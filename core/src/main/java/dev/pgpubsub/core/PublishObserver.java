package dev.pgpubsub.core;

/**
 * Told of every publish a {@link Publisher} made, for metrics; set with
 * {@link Publisher.Builder#observer(PublishObserver)}. It depends on no metrics library: the
 * listener module's {@code dev.pgpubsub.listener.micrometer.PgPubSubMetrics} is one, for Micrometer.
 *
 * <p>Called on the publishing thread right after the insert ran, before the caller's transaction
 * commits (the publisher cannot know whether it will): a transaction that rolls back has been
 * counted all the same. Return quickly and do not throw.
 */
@FunctionalInterface
public interface PublishObserver {

    /** Observes nothing: the default. */
    PublishObserver NONE = (channel, tasks) -> { };

    /**
     * Tasks were inserted into the caller's transaction.
     *
     * @param channel the channel they were published to
     * @param tasks   how many: 1 for {@code publish}, the size of the collection for {@code publishAll}
     */
    void published(String channel, int tasks);
}
