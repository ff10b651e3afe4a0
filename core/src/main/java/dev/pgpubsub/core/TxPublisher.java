package dev.pgpubsub.core;

import java.time.Instant;
import java.util.Collection;

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
}
