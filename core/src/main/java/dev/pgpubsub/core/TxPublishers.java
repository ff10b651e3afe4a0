package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.core.internal.PublishTracing;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** The ways into a caller's transaction (JDBC here, jOOQ in {@link JooqPublisher}), and the checks and encoding they share. */
final class TxPublishers {

    /** At most this many rows go in one round trip of a batch. */
    static final int CHUNK_MAX_ROWS = 10_000;
    /** At most this many bytes of JSON go in one round trip of a batch (a single larger payload goes alone). */
    static final int CHUNK_MAX_BYTES = 4 << 20;

    private TxPublishers() {
    }

    /** Publishes on a JDBC connection in a transaction. */
    record OnConnection(Publisher publisher, Connection connection) implements TxPublisher {

        @Override
        public <P extends Record> long publish(Channel<P> channel, P payload) {
            return one(publisher, connection, channel, payload, null);
        }

        @Override
        public <P extends Record> long publish(Channel<P> channel, P payload, Instant runAt) {
            return one(publisher, connection, channel, payload, requireRunAt(channel, runAt));
        }

        @Override
        public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads) {
            return all(publisher, connection, channel, payloads, null);
        }

        @Override
        public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads, Instant runAt) {
            return all(publisher, connection, channel, payloads, requireRunAt(channel, runAt));
        }

        @Override
        public <P extends Record> long publish(Channel<P> channel, P payload, PublishOptions options) {
            check(publisher, channel, payload);
            requireOptions(channel, options);
            return oneWith(publisher, connection, channel, payload, options);
        }

        @Override
        public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads,
                PublishOptions options) {
            checkAllWith(publisher, channel, payloads, options);
            return allWith(publisher, connection, channel, payloads, options);
        }

        @Override
        public <P extends Record> Map<String, Long> publishAll(Channel<P> channel, Map<String, ? extends P> payloadsByKey,
                PublishOptions options) {
            return allKeyed(publisher, connection, channel, keyed(publisher, channel, payloadsByKey, options), options);
        }
    }

    static <T> T inNewTransaction(Publisher publisher, DataSource dataSource, Publisher.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T result = work.run(new OnConnection(publisher, c), c);
                c.commit();
                return result;
            } catch (RuntimeException | SQLException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new PgPubSubException("Could not publish in a new transaction: " + e.getMessage(), e);
        }
    }

    /** Whether an observer's failure was logged at WARN already (later ones go to DEBUG). */
    private static final java.util.concurrent.atomic.AtomicBoolean OBSERVER_FAILED =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** Tells the observer; what it throws never fails the publish, which has happened. */
    private static void observe(Publisher publisher, Channel<?> channel, int tasks) {
        try {
            publisher.observer().published(channel.name(), tasks);
        } catch (RuntimeException | LinkageError e) {
            org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Publisher.class);
            if (OBSERVER_FAILED.compareAndSet(false, true)) {
                log.warn("The publish observer failed ({}); the tasks are published all the same. Later failures are "
                        + "logged at DEBUG", e.toString(), e);
            } else {
                log.debug("The publish observer failed again", e);
            }
        }
    }

    static <P extends Record> long one(Publisher publisher, Connection c, Channel<P> channel, P payload,
            Instant runAt) {
        return oneWith(publisher, c, channel, payload, runAt == null ? PublishOptions.defaults()
                : PublishOptions.defaults().runAt(runAt));
    }

    static <P extends Record> long oneWith(Publisher publisher, Connection c, Channel<P> channel, P payload,
            PublishOptions options) {
        check(publisher, channel, payload);
        String json = new String(encodeBytes(publisher, channel, payload), StandardCharsets.UTF_8);
        requireTransaction(c, channel);
        PublishTracing.Span span = publisher.tracing().start(channel.name(), 1);
        try {
            long id = publisher.statements().publishOne(c, channel.name(), json, options.runAt(), span.headers(),
                    options.key(), options.onConflict(), options.priority());
            observe(publisher, channel, 1);
            return id;
        } catch (SQLException e) {
            PgPubSubException failure = failure(publisher, channel, e);
            span.failed(failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            span.failed(e);
            throw e;
        } finally {
            span.end();
        }
    }

    static <P extends Record> long[] all(Publisher publisher, Connection c, Channel<P> channel,
            Collection<? extends P> payloads, Instant runAt) {
        checkAll(publisher, channel, payloads);
        return all(publisher, c, channel, payloads, null, runAt == null ? PublishOptions.defaults()
                : PublishOptions.defaults().runAt(runAt));
    }

    /** Checks a batch without keys published with {@code options}. */
    static <P extends Record> void checkAllWith(Publisher publisher, Channel<P> channel, Collection<? extends P> payloads,
            PublishOptions options) {
        checkAll(publisher, channel, payloads);
        requireOptions(channel, options);
        if (options.key() != null) {
            throw new IllegalArgumentException("The options for the batch on channel '" + channel.name()
                    + "' carry the key \"" + options.key() + "\", which one task only may hold: publish the tasks with "
                    + "their keys by publishAll(channel, payloadsByKey, options)");
        }
    }

    /** A batch without keys, checked by {@link #checkAllWith}, with the run time and priority of {@code options}. */
    static <P extends Record> long[] allWith(Publisher publisher, Connection c, Channel<P> channel,
            Collection<? extends P> payloads, PublishOptions options) {
        return all(publisher, c, channel, payloads, null, options);
    }

    /** The payloads, checked; with {@code keys} parallel to them (or null for none). */
    private static <P extends Record> long[] all(Publisher publisher, Connection c, Channel<P> channel,
            Collection<? extends P> payloads, List<String> keys, PublishOptions options) {
        if (payloads.isEmpty()) {
            return new long[0];
        }
        requireTransaction(c, channel);
        long[] ids = new long[payloads.size()];
        int done = 0;
        List<String> chunk = new ArrayList<>();
        List<String> chunkKeys = keys == null ? null : new ArrayList<>();
        int chunkBytes = 0;
        PublishTracing.Span span = publisher.tracing().start(channel.name(), payloads.size());
        String headers = span.headers();
        try {
            for (P payload : payloads) {
                byte[] json = encodeBytes(publisher, channel, payload);
                if (!chunk.isEmpty() && (chunk.size() == CHUNK_MAX_ROWS || chunkBytes + json.length > CHUNK_MAX_BYTES)) {
                    done = send(publisher, c, channel, chunk, chunkKeys, options, headers, ids, done);
                    chunk.clear();
                    if (chunkKeys != null) {
                        chunkKeys.clear();
                    }
                    chunkBytes = 0;
                }
                if (chunkKeys != null) {
                    String key = keys.get(done + chunk.size());
                    chunkKeys.add(key);
                    chunkBytes += key.length() * 2 + 4;
                }
                chunk.add(new String(json, StandardCharsets.UTF_8));
                chunkBytes += json.length + 1;
            }
            send(publisher, c, channel, chunk, chunkKeys, options, headers, ids, done);
            observe(publisher, channel, ids.length);
            return ids;
        } catch (SQLException e) {
            PgPubSubException failure = failure(publisher, channel, e);
            span.failed(failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            span.failed(e);
            throw e;
        } finally {
            span.end();
        }
    }

    private static int send(Publisher publisher, Connection c, Channel<?> channel, List<String> chunk, List<String> keys,
            PublishOptions options, String headers, long[] ids, int done) throws SQLException {
        String array = "[" + String.join(",", chunk) + "]";
        long[] chunkIds = publisher.statements().publishChunk(c, channel.name(), array, options.runAt(), headers,
                keys == null ? null : KEYS_JSON.writeValueAsString(keys), options.onConflict(), options.priority());
        System.arraycopy(chunkIds, 0, ids, done, chunkIds.length);
        return done + chunkIds.length;
    }

    private static final tools.jackson.databind.json.JsonMapper KEYS_JSON =
            tools.jackson.databind.json.JsonMapper.builder().build();

    /** A keyed batch, checked, in the order its keys are taken: sorted by code point (the database's "C" order). */
    record Keyed<P>(List<String> keys, List<P> payloads, Map<String, ? extends P> byKey) {
    }

    static <P extends Record> Keyed<P> keyed(Publisher publisher, Channel<P> channel, Map<String, ? extends P> byKey,
            PublishOptions options) {
        if (channel == null) {
            throw nullChannel();
        }
        if (byKey == null) {
            throw new IllegalArgumentException("The payload map for channel '" + channel.name() + "' is null: pass an "
                    + "empty map to publish nothing");
        }
        requireOptions(channel, options);
        if (options.key() != null) {
            throw new IllegalArgumentException("The options for the keyed batch on channel '" + channel.name()
                    + "' carry the key \"" + options.key() + "\": each task's key is its key in the map; leave the "
                    + "options' key unset");
        }
        Names.requireChannel(channel.name(), publisher.schema());
        List<String> keys = new ArrayList<>(byKey.size());
        for (Map.Entry<String, ? extends P> e : byKey.entrySet()) {
            PublishOptions.requireKey(e.getKey(), "A key of the batch for channel '" + channel.name() + "'");
            if (e.getValue() == null) {
                throw new IllegalArgumentException("The payload for key \"" + e.getKey() + "\" on channel '"
                        + channel.name() + "' is null: remove it or publish a value");
            }
            check(publisher, channel, e.getValue());
            keys.add(e.getKey());
        }
        keys.sort(TxPublishers::byCodePoint);
        List<P> payloads = new ArrayList<>(keys.size());
        for (String key : keys) {
            payloads.add(byKey.get(key));
        }
        return new Keyed<>(keys, payloads, byKey);
    }

    static <P extends Record> Map<String, Long> allKeyed(Publisher publisher, Connection c, Channel<P> channel,
            Keyed<P> keyed, PublishOptions options) {
        long[] ids = all(publisher, c, channel, keyed.payloads(), keyed.keys(), options);
        Map<String, Long> byKey = new java.util.HashMap<>(keyed.keys().size() * 2);
        for (int i = 0; i < ids.length; i++) {
            byKey.put(keyed.keys().get(i), ids[i]);
        }
        Map<String, Long> inOrder = new java.util.LinkedHashMap<>(byKey.size() * 2);
        for (String key : keyed.byKey().keySet()) {
            inOrder.put(key, byKey.get(key));
        }
        return java.util.Collections.unmodifiableMap(inOrder);
    }

    private static int byCodePoint(String a, String b) {
        return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
    }

    static void requireOptions(Channel<?> channel, PublishOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("The publish options for channel '" + (channel == null ? null : channel.name())
                    + "' are null: pass PublishOptions.defaults(), or use the overload without options");
        }
    }

    static <P extends Record> void check(Publisher publisher, Channel<P> channel, P payload) {
        if (channel == null) {
            throw nullChannel();
        }
        Names.requireChannel(channel.name(), publisher.schema());
        if (payload == null) {
            throw new IllegalArgumentException("The payload for channel '" + channel.name() + "' is null: publish a "
                    + channel.payloadType().getName() + " (use a record with empty fields for a task without data)");
        }
        if (!channel.payloadType().isInstance(payload)) {
            throw new IllegalArgumentException("The payload for channel '" + channel.name() + "' is a "
                    + payload.getClass().getName() + ", but the channel carries " + channel.payloadType().getName());
        }
    }

    static <P extends Record> void checkAll(Publisher publisher, Channel<P> channel, Collection<? extends P> payloads) {
        if (channel == null) {
            throw nullChannel();
        }
        if (payloads == null) {
            throw new IllegalArgumentException("The payload collection for channel '"
                    + (channel == null ? null : channel.name()) + "' is null: pass an empty collection to publish nothing");
        }
        int index = 0;
        for (P payload : payloads) {
            if (payload == null) {
                throw new IllegalArgumentException("Payload #" + index + " of " + payloads.size() + " for channel '"
                        + (channel == null ? null : channel.name()) + "' is null: remove it or publish a value");
            }
            check(publisher, channel, payload);
            index++;
        }
        if (index == 0) {
            Names.requireChannel(channel.name(), publisher.schema());
        }
    }

    private static IllegalArgumentException nullChannel() {
        return new IllegalArgumentException("The channel is null: pass a Channel, e.g. Channel.of(\"orders\", OrderPlaced.class)");
    }

    /** The payload's JSON, within the cap; the arguments were checked. */
    private static <P extends Record> byte[] encodeBytes(Publisher publisher, Channel<P> channel, P payload) {
        byte[] json = publisher.codec().write(channel.name(), payload);
        PayloadCodec.requireWithinCap(channel.name(), json.length, publisher.maxPayloadBytes(),
                ", or raise Publisher.Builder.maxPayloadBytes");
        return json;
    }

    static Instant requireRunAt(Channel<?> channel, Instant runAt) {
        if (runAt == null) {
            throw new IllegalArgumentException("runAt is null for channel '" + (channel == null ? null : channel.name())
                    + "': pass the earliest time to run the task, or use the overload without runAt to run it now");
        }
        return runAt;
    }

    private static void requireTransaction(Connection c, Channel<?> channel) {
        boolean autoCommit;
        try {
            autoCommit = c.getAutoCommit();
        } catch (SQLException e) {
            throw new PgPubSubException("Could not publish to channel '" + channel.name()
                    + "': the connection is not usable (" + e.getMessage() + ")", e);
        }
        if (autoCommit) {
            throw new IllegalStateException("Could not publish to channel '" + channel.name() + "': the connection is in "
                    + "autocommit mode, so the task would commit on its own, apart from the data it belongs with. "
                    + "Call connection.setAutoCommit(false) and commit after publishing, or use "
                    + "Publisher.publish(DataSource, ...) to publish in a transaction of its own.");
        }
    }

    private static PgPubSubException failure(Publisher publisher, Channel<?> channel, SQLException e) {
        String hint = switch (String.valueOf(e.getSQLState())) {
            case "42P01", "42883", "3F000" -> " Is pgpubsub installed in schema '" + publisher.schema() + "'? "
                    + Names.migrateHint(publisher.schema()) + ".";
            case "42501" -> " The role needs USAGE on schema '" + publisher.schema() + "' and EXECUTE on "
                    + publisher.schema() + ".publish and " + publisher.schema() + ".publish_all; it needs no right on the tables.";
            case "25P02" -> " The transaction had already failed; roll it back and retry.";
            case "55P03" -> " Roll the transaction back, and retry it once the task's handler is done.";
            default -> " Roll the transaction back; nothing it published will be delivered.";
        };
        return new PgPubSubException("Could not publish to channel '" + channel.name() + "' (SQLSTATE " + e.getSQLState()
                + "): " + e.getMessage() + "." + hint, e);
    }
}
