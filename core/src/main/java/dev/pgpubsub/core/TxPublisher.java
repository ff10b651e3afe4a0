package dev.pgpubsub.core;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;

/**
 * Publishes inside one transaction of the caller's, obtained from
 * {@link Publisher#in(java.sql.Connection)} or {@link JooqPublisher#in(Publisher, org.jooq.DSLContext)}.
 *
 * <p>Published tasks become visible, and their channels' listeners are woken, when that transaction
 * commits; if it rolls back, nothing was published. Every argument is checked before any SQL runs, and
 * bad input gets an {@link IllegalArgumentException} that names the value and the fix. Database
 * failures throw {@link PgPubSubException}; the caller's transaction should then be rolled back.
 */
public interface TxPublisher {

    /**
     * Publishes one task, due now.
     *
     * @param channel the channel to publish to; its name must fit the installation's schema
     * @param payload the task's data, written as JSON; not null
     * @param <P>     the payload type
     * @return the task's id
     */
    <P extends Record> long publish(Channel<P> channel, P payload);

    /**
     * Publishes one task that is not to run before {@code runAt}.
     *
     * @param channel the channel to publish to; its name must fit the installation's schema
     * @param payload the task's data, written as JSON; not null
     * @param runAt   the earliest time the task may run; a time in the past means now
     * @param <P>     the payload type
     * @return the task's id
     */
    <P extends Record> long publish(Channel<P> channel, P payload, Instant runAt);

    /**
     * Publishes many tasks, due now, in as few round trips as their size allows (one for up to 10,000
     * small payloads), with one wake-up for the channel.
     *
     * @param channel  the channel to publish to; its name must fit the installation's schema
     * @param payloads the tasks' data, one task each, none null; empty publishes nothing
     * @param <P>      the payload type
     * @return the tasks' ids, in the order of {@code payloads}
     */
    <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads);

    /**
     * Publishes many tasks that are not to run before {@code runAt}; see
     * {@link #publishAll(Channel, Collection)}.
     *
     * @param channel  the channel to publish to; its name must fit the installation's schema
     * @param payloads the tasks' data, one task each, none null; empty publishes nothing
     * @param runAt    the earliest time the tasks may run; a time in the past means now
     * @param <P>      the payload type
     * @return the tasks' ids, in the order of {@code payloads}
     */
    <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads, Instant runAt);

    /**
     * Publishes one task with {@code options}: a unique key (kept or replaced while pending), a run
     * time. With a key whose task is pending, returns that task's id; see {@link PublishOptions}.
     *
     * @param channel the channel to publish to; its name must fit the installation's schema
     * @param payload the task's data, written as JSON; not null
     * @param options the key, mode and run time, e.g. {@code PublishOptions.defaults().key("order-42:invoice")}
     * @param <P>     the payload type
     * @return the task's id: the new task's, or that of the pending task that holds the key
     * @throws PgPubSubException with SQLSTATE 55P03, in replace mode, when the task that holds the key
     *                           is running (the transaction is then to be rolled back and retried)
     */
    <P extends Record> long publish(Channel<P> channel, P payload, PublishOptions options);

    /**
     * Publishes many tasks without keys, all with the run time and priority of {@code options}, in
     * one round trip per chunk; ids ascend in the order of {@code payloads}.
     *
     * @param channel  the channel to publish to; its name must fit the installation's schema
     * @param payloads the tasks' data; none null; empty publishes nothing
     * @param options  the run time and priority, e.g. {@code PublishOptions.defaults().priority(10)};
     *                 its key unset (use {@link #publishAll(Channel, Map, PublishOptions)} for keys)
     * @param <P>      the payload type
     * @return the new tasks' ids, in the order of {@code payloads}
     * @throws UnsupportedOperationException in an implementation written before priorities that does
     *                                       not override this method, for options other than a run time
     */
    default <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads,
            PublishOptions options) {
        if (options != null && options.key() == null && options.priority() == 0) {
            return options.runAt() == null ? publishAll(channel, payloads) : publishAll(channel, payloads, options.runAt());
        }
        throw new UnsupportedOperationException(getClass().getName() + " does not publish batches with " + options
                + ": override publishAll(Channel, Collection, PublishOptions)");
    }

    /**
     * Publishes many tasks, each with its key (the map's key), with the mode and run time of
     * {@code options}, whose own key must be unset. The keys are taken in sorted order (of their
     * code points), so that concurrent batches that share keys cannot deadlock.
     *
     * @param channel       the channel to publish to; its name must fit the installation's schema
     * @param payloadsByKey each task's payload by its key; none null; empty publishes nothing
     * @param options       the mode and run time, e.g. {@code PublishOptions.defaults().replace()}
     * @param <P>           the payload type
     * @return each key's task id (new, kept or replaced), in the map's order
     * @throws PgPubSubException with SQLSTATE 55P03, in replace mode, when a key's task is running
     */
    <P extends Record> Map<String, Long> publishAll(Channel<P> channel, Map<String, ? extends P> payloadsByKey,
            PublishOptions options);
}
