package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.core.internal.ObservedPublishing;
import dev.pgpubsub.core.internal.PublishStatements;
import dev.pgpubsub.core.internal.PublishTracing;
import io.micrometer.observation.ObservationRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * Publishes tasks inside the caller's own database transaction, so that a task exists exactly when
 * the business data written with it does.
 *
 * <pre>{@code
 * Publisher publisher = Publisher.create();
 * connection.setAutoCommit(false);
 * // ... write your own rows ...
 * publisher.in(connection).publish(ORDERS, new OrderPlaced(orderId, amount));
 * connection.commit();   // the task appears and listeners are woken only now
 * }</pre>
 *
 * <p>Works with any Postgres JDBC driver; with jOOQ, publish through {@link JooqPublisher}. A
 * publisher is immutable and thread-safe; create one and share it.
 */
public final class Publisher {

    /** The default cap on one payload's JSON: 1 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1 << 20;

    private final String schema;
    private final int maxPayloadBytes;
    private final PayloadCodec codec;
    private final PublishStatements statements;
    private final PublishObserver observer;
    private final PublishTracing tracing;

    private Publisher(Builder builder) {
        this.schema = builder.schema;
        this.maxPayloadBytes = builder.maxPayloadBytes;
        this.codec = builder.mapper == null ? PayloadCodec.standard() : PayloadCodec.using(builder.mapper);
        this.statements = new PublishStatements(schema);
        this.observer = builder.observer;
        this.tracing = builder.tracing;
    }

    /**
     * A publisher with the default settings (schema {@value PgPubSub#DEFAULT_SCHEMA}, 1 MiB payload cap).
     *
     * @return a new publisher
     */
    public static Publisher create() {
        return builder().build();
    }

    /**
     * A builder for a publisher with settings of its own.
     *
     * @return a builder with every setting at its default
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Publishes inside the transaction open on {@code transaction}. The connection must not be in
     * autocommit mode: a task published in autocommit would commit on its own, apart from the data it
     * belongs with. Use {@link #publish(DataSource, Channel, Record)} to publish in a transaction of its own.
     *
     * @param transaction the connection whose open transaction the tasks belong to; the caller commits
     *                    or rolls it back
     * @return a publisher bound to that transaction
     * @throws IllegalArgumentException when {@code transaction} is null
     */
    public TxPublisher in(Connection transaction) {
        if (transaction == null) {
            throw new IllegalArgumentException("The connection is null: pass the JDBC connection whose transaction the task belongs to");
        }
        return new TxPublishers.OnConnection(this, transaction);
    }

    /**
     * Publishes one task in a transaction of its own on a connection from {@code dataSource}, and
     * commits it.
     *
     * @param dataSource the database pgpubsub is installed in
     * @param channel    the channel to publish to
     * @param payload    the task's data, written as JSON
     * @param <P>        the payload type
     * @return the task's id
     * @throws IllegalArgumentException when an argument is null or not valid, or the payload is over the cap
     * @throws PgPubSubException when the database cannot be reached or refuses the task (nothing is then published)
     */
    public <P extends Record> long publish(DataSource dataSource, Channel<P> channel, P payload) {
        return inNewTransaction(dataSource, (tx, connection) -> tx.publish(channel, payload));
    }

    /**
     * Publishes one task with {@code options} (a unique key, a run time) in a transaction of its own
     * on a connection from {@code dataSource}, and commits it; see {@link PublishOptions}.
     *
     * @param dataSource the database pgpubsub is installed in
     * @param channel    the channel to publish to
     * @param payload    the task's data, written as JSON
     * @param options    the key, mode and run time
     * @param <P>        the payload type
     * @return the task's id: the new task's, or that of the pending task that holds the key
     * @throws IllegalArgumentException when an argument is null or not valid, or the payload is over the cap
     * @throws PgPubSubException when the database cannot be reached or refuses the task (nothing is then
     *                           published), e.g. with SQLSTATE 55P03 when a task to replace is running
     */
    public <P extends Record> long publish(DataSource dataSource, Channel<P> channel, P payload, PublishOptions options) {
        return inNewTransaction(dataSource, (tx, connection) -> tx.publish(channel, payload, options));
    }

    /**
     * Runs {@code work} in a new transaction on a connection from {@code dataSource}: commits when it
     * returns, rolls back when it throws.
     *
     * @param dataSource the database pgpubsub is installed in
     * @param work       what to do in the transaction
     * @param <T>        what {@code work} returns
     * @return what {@code work} returned
     * @throws IllegalArgumentException when {@code dataSource} is null
     * @throws PgPubSubException when the database cannot be reached, or {@code work} throws an
     *                           {@link SQLException} (the transaction is then rolled back)
     */
    public <T> T inNewTransaction(DataSource dataSource, Work<T> work) {
        if (dataSource == null) {
            throw new IllegalArgumentException("The DataSource is null: pass the DataSource of the database pgpubsub is installed in");
        }
        return TxPublishers.inNewTransaction(this, dataSource, work);
    }

    /**
     * The schema this publisher writes to.
     *
     * @return the schema of the installation
     */
    public String schema() {
        return schema;
    }

    /**
     * The largest payload, in bytes of JSON, this publisher accepts.
     *
     * @return the cap, in bytes
     */
    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    PayloadCodec codec() {
        return codec;
    }

    PublishStatements statements() {
        return statements;
    }

    PublishObserver observer() {
        return observer;
    }

    PublishTracing tracing() {
        return tracing;
    }

    /**
     * Work done in a transaction opened by {@link #inNewTransaction(DataSource, Work)}.
     *
     * @param <T> what the work returns
     */
    @FunctionalInterface
    public interface Work<T> {
        /**
         * Publishes (and may use {@code connection} for more work in the same transaction).
         *
         * @param tx         publishes in the transaction
         * @param connection the transaction's connection; do not commit, roll back or close it
         * @return the result of the work, handed back by {@link #inNewTransaction(DataSource, Work)}
         * @throws SQLException when SQL of the work's own fails; the transaction is then rolled back
         */
        T run(TxPublisher tx, Connection connection) throws SQLException;
    }

    /** Settings of a {@link Publisher}, each with a named default. */
    public static final class Builder {
        private String schema = PgPubSub.DEFAULT_SCHEMA;
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        private JsonMapper mapper;
        private PublishObserver observer = PublishObserver.NONE;
        private PublishTracing tracing = PublishTracing.NONE;

        private Builder() {
        }

        /**
         * The schema pgpubsub is installed in; default {@value PgPubSub#DEFAULT_SCHEMA}.
         *
         * @param schema lower-case letters, digits and underscores, at most 31 bytes
         * @return this builder
         * @throws IllegalArgumentException when the schema name is not valid
         */
        public Builder schema(String schema) {
            this.schema = Names.requireSchema(schema);
            return this;
        }

        /**
         * The cap on one payload's JSON, in bytes; default 1 MiB.
         *
         * @param maxPayloadBytes the largest payload to accept, in bytes of JSON; at least 2
         * @return this builder
         * @throws IllegalArgumentException when {@code maxPayloadBytes} is less than 2
         */
        public Builder maxPayloadBytes(int maxPayloadBytes) {
            if (maxPayloadBytes < 2) {
                throw new IllegalArgumentException("maxPayloadBytes is " + maxPayloadBytes
                        + "; it must be at least 2 (the size of '{}'). The default is " + DEFAULT_MAX_PAYLOAD_BYTES + ".");
            }
            this.maxPayloadBytes = maxPayloadBytes;
            return this;
        }

        /**
         * The Jackson mapper for payloads; default: the library's, which ignores unknown properties on
         * read. A mapper of your own should ignore them too, or rows written by a newer publisher will
         * not read during a rolling deploy. Never enable default typing.
         *
         * @param mapper the mapper to write payloads with
         * @return this builder
         * @throws IllegalArgumentException when {@code mapper} is null
         */
        public Builder jsonMapper(JsonMapper mapper) {
            if (mapper == null) {
                throw new IllegalArgumentException("The JsonMapper is null; leave it unset to use the library's");
            }
            this.mapper = mapper;
            return this;
        }

        /**
         * Told of every publish, for metrics (e.g. {@code PgPubSubMetrics} of the listener module, for
         * Micrometer); default: none. It is called on the publishing thread after the insert, before
         * the caller's transaction commits.
         *
         * @param observer receives each publish
         * @return this builder
         * @throws IllegalArgumentException when {@code observer} is null
         */
        public Builder observer(PublishObserver observer) {
            if (observer == null) {
                throw new IllegalArgumentException("The publish observer is null; leave it unset for none");
            }
            this.observer = observer;
            return this;
        }

        /**
         * Traces publishing through the Micrometer Observation API (an optional dependency:
         * {@code io.micrometer:micrometer-observation}); default: no tracing. Each publish runs in an
         * observation {@code pgpubsub.publish}, a producer span that is a child of the current span
         * when a tracer (OpenTelemetry or Brave, through Micrometer Tracing) is bridged to the
         * registry. The tracer's propagation headers (W3C {@code traceparent}) are stored with the
         * tasks, and the listener continues the trace in their handlers. Without a tracing handler
         * in the registry, tasks carry no trace context.
         *
         * @param registry the registry to observe publishing in; the no-op registry turns tracing off
         * @return this builder
         * @throws IllegalArgumentException when {@code registry} is null
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            this.tracing = ObservedPublishing.of(registry);
            return this;
        }

        /**
         * The publisher.
         *
         * @return a new publisher with these settings
         */
        public Publisher build() {
            return new Publisher(this);
        }
    }
}
