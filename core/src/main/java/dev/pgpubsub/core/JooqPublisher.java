package dev.pgpubsub.core;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import org.jooq.DSLContext;

/**
 * Publishes inside a jOOQ transaction. Needs jOOQ (3.19 or newer) on the class path; the rest of the
 * library does not.
 *
 * <pre>{@code
 * dsl.transaction(cfg -> {
 *     cfg.dsl().insertInto(ORDERS_TABLE).set(...).execute();
 *     JooqPublisher.in(PUBLISHER, cfg.dsl()).publish(ORDERS, new OrderPlaced(orderId, amount));
 * });   // the task commits with the order, or not at all
 * }</pre>
 */
public final class JooqPublisher {

    private JooqPublisher() {
    }

    /**
     * Publishes with {@code publisher}'s settings inside the transaction {@code transaction} runs in,
     * e.g. the {@code cfg.dsl()} of {@code dsl.transaction(cfg -> ...)}. A {@code DSLContext} outside a
     * transaction (autocommit) is refused, as {@link Publisher#in(java.sql.Connection)} refuses one.
     *
     * @param publisher   the publisher whose settings (schema, payload cap, JSON mapper) apply
     * @param transaction the jOOQ context of the transaction the tasks belong to
     * @return a publisher bound to that transaction
     * @throws IllegalArgumentException when an argument is null
     */
    public static TxPublisher in(Publisher publisher, DSLContext transaction) {
        if (publisher == null) {
            throw new IllegalArgumentException("The publisher is null: pass one, e.g. Publisher.create()");
        }
        if (transaction == null) {
            throw new IllegalArgumentException("The DSLContext is null: pass the DSLContext of the transaction the task belongs to");
        }
        return new OnDsl(publisher, transaction);
    }

    /** Publishes on the connection of a jOOQ transaction; arguments are checked before one is acquired. */
    private record OnDsl(Publisher publisher, DSLContext dsl) implements TxPublisher {

        @Override
        public <P extends Record> long publish(Channel<P> channel, P payload) {
            TxPublishers.check(publisher, channel, payload);
            return dsl.connectionResult(c -> TxPublishers.one(publisher, c, channel, payload, null));
        }

        @Override
        public <P extends Record> long publish(Channel<P> channel, P payload, Instant runAt) {
            TxPublishers.check(publisher, channel, payload);
            Instant at = TxPublishers.requireRunAt(channel, runAt);
            return dsl.connectionResult(c -> TxPublishers.one(publisher, c, channel, payload, at));
        }

        @Override
        public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads) {
            TxPublishers.checkAll(publisher, channel, payloads);
            return dsl.connectionResult(c -> TxPublishers.all(publisher, c, channel, payloads, null));
        }

        @Override
        public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads, Instant runAt) {
            TxPublishers.checkAll(publisher, channel, payloads);
            Instant at = TxPublishers.requireRunAt(channel, runAt);
            return dsl.connectionResult(c -> TxPublishers.all(publisher, c, channel, payloads, at));
        }

        @Override
        public <P extends Record> long publish(Channel<P> channel, P payload, PublishOptions options) {
            TxPublishers.check(publisher, channel, payload);
            TxPublishers.requireOptions(channel, options);
            return dsl.connectionResult(c -> TxPublishers.oneWith(publisher, c, channel, payload, options));
        }

        @Override
        public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads,
                PublishOptions options) {
            TxPublishers.checkAllWith(publisher, channel, payloads, options);
            return dsl.connectionResult(c -> TxPublishers.allWith(publisher, c, channel, payloads, options));
        }

        @Override
        public <P extends Record> Map<String, Long> publishAll(Channel<P> channel, Map<String, ? extends P> payloadsByKey,
                PublishOptions options) {
            TxPublishers.Keyed<P> keyed = TxPublishers.keyed(publisher, channel, payloadsByKey, options);
            return dsl.connectionResult(c -> TxPublishers.allKeyed(publisher, c, channel, keyed, options));
        }
    }
}
