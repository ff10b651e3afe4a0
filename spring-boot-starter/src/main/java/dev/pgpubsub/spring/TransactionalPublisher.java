package dev.pgpubsub.spring;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PublishOptions;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.core.TxPublisher;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.function.Function;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Publishes tasks inside the Spring transaction open on the calling thread, so that a task exists
 * exactly when the data written with it does: in a {@code @Transactional} method (or a
 * {@code TransactionTemplate}), the tasks commit or roll back with the method's own writes, whether
 * these go through {@code JdbcTemplate}, Spring Data JPA or jOOQ.
 *
 * <pre>{@code
 * @Transactional
 * public void placeOrder(Order order) {
 *     orders.save(order);
 *     publisher.publish(ORDERS, new OrderPlaced(order.getId(), order.getAmount()));
 * }
 * }</pre>
 *
 * <p>Where no transaction holds a connection of the application's {@code DataSource} (no
 * transaction at all, a read-only one, or only one of another transaction manager), every call is
 * refused with an
 * {@link IllegalStateException} that says so, and nothing is published: a task published on its own
 * could exist without the data it belongs with. To publish in a transaction of its own on purpose,
 * use {@link #inOwnTransaction()}.
 *
 * <p>The starter provides one as a bean; it is thread-safe.
 */
public final class TransactionalPublisher implements TxPublisher {

    private final Publisher publisher;
    private final DataSource dataSource;
    private final TxPublisher own;

    /**
     * Publishes with {@code publisher} in the Spring transactions on {@code dataSource}. The starter
     * makes one; make your own (a bean of this type replaces the starter's) for another schema, say.
     *
     * @param publisher  the publisher (schema and payload cap)
     * @param dataSource the DataSource as the application's transaction manager keys its
     *                   transactions (the one given to it, and to {@code JdbcTemplate})
     * @throws IllegalArgumentException when an argument is null
     */
    public TransactionalPublisher(Publisher publisher, DataSource dataSource) {
        if (publisher == null || dataSource == null) {
            throw new IllegalArgumentException("The " + (publisher == null ? "Publisher" : "DataSource")
                    + " is null: pass the core Publisher to publish with and the application's DataSource");
        }
        this.publisher = publisher;
        this.dataSource = dataSource;
        // A transaction-aware proxy would hand out the transaction's own connection, which a
        // transaction of its own must not use.
        DataSource raw = dataSource instanceof TransactionAwareDataSourceProxy proxy && proxy.getTargetDataSource() != null
                ? proxy.getTargetDataSource() : dataSource;
        this.own = new TxPublisher() {
            @Override
            public <P extends Record> long publish(Channel<P> channel, P payload) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publish(channel, payload));
            }

            @Override
            public <P extends Record> long publish(Channel<P> channel, P payload, Instant runAt) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publish(channel, payload, runAt));
            }

            @Override
            public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publishAll(channel, payloads));
            }

            @Override
            public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads,
                    Instant runAt) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publishAll(channel, payloads, runAt));
            }

            @Override
            public <P extends Record> long publish(Channel<P> channel, P payload, PublishOptions options) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publish(channel, payload, options));
            }

            @Override
            public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads,
                    PublishOptions options) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publishAll(channel, payloads, options));
            }

            @Override
            public <P extends Record> Map<String, Long> publishAll(Channel<P> channel,
                    Map<String, ? extends P> payloadsByKey, PublishOptions options) {
                return publisher.inNewTransaction(raw, (tx, c) -> tx.publishAll(channel, payloadsByKey, options));
            }
        };
    }

    /**
     * Publishes one task, due now, in the calling thread's Spring transaction.
     *
     * @param channel the channel to publish to
     * @param payload the task's data, written as JSON
     * @param <P>     the payload type
     * @return the task's id
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> long publish(Channel<P> channel, P payload) {
        return joined(tx -> tx.publish(channel, payload));
    }

    /**
     * Publishes one task, not to run before {@code runAt}, in the calling thread's Spring transaction.
     *
     * @param channel the channel to publish to
     * @param payload the task's data, written as JSON
     * @param runAt   the earliest time the task may run
     * @param <P>     the payload type
     * @return the task's id
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> long publish(Channel<P> channel, P payload, Instant runAt) {
        return joined(tx -> tx.publish(channel, payload, runAt));
    }

    /**
     * Publishes many tasks, due now, in the calling thread's Spring transaction.
     *
     * @param channel  the channel to publish to
     * @param payloads the tasks' data, one task each
     * @param <P>      the payload type
     * @return the tasks' ids, in the order of {@code payloads}
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads) {
        return joined(tx -> tx.publishAll(channel, payloads));
    }

    /**
     * Publishes many tasks, not to run before {@code runAt}, in the calling thread's Spring transaction.
     *
     * @param channel  the channel to publish to
     * @param payloads the tasks' data, one task each
     * @param runAt    the earliest time the tasks may run
     * @param <P>      the payload type
     * @return the tasks' ids, in the order of {@code payloads}
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads, Instant runAt) {
        return joined(tx -> tx.publishAll(channel, payloads, runAt));
    }

    /**
     * Publishes one task with {@code options} (a unique key, a run time) in the calling thread's
     * Spring transaction; see {@link PublishOptions}.
     *
     * @param channel the channel to publish to
     * @param payload the task's data, written as JSON
     * @param options the key, mode and run time
     * @param <P>     the payload type
     * @return the task's id: the new task's, or that of the pending task that holds the key
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> long publish(Channel<P> channel, P payload, PublishOptions options) {
        return joined(tx -> tx.publish(channel, payload, options));
    }

    /**
     * Publishes many tasks without keys, with the run time and priority of {@code options}, in the
     * calling thread's Spring transaction; see {@link TxPublisher#publishAll(Channel, Collection, PublishOptions)}.
     *
     * @param channel  the channel to publish to
     * @param payloads the tasks' data
     * @param options  the run time and priority; its key unset
     * @param <P>      the payload type
     * @return the new tasks' ids, in the order of {@code payloads}
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> long[] publishAll(Channel<P> channel, Collection<? extends P> payloads,
            PublishOptions options) {
        return joined(tx -> tx.publishAll(channel, payloads, options));
    }

    /**
     * Publishes many tasks, each with its key, in the calling thread's Spring transaction; see
     * {@link TxPublisher#publishAll(Channel, Map, PublishOptions)}.
     *
     * @param channel       the channel to publish to
     * @param payloadsByKey each task's payload by its key
     * @param options       the mode and run time; its own key unset
     * @param <P>           the payload type
     * @return each key's task id, in the map's order
     * @throws IllegalStateException when no Spring transaction on the application's DataSource is
     *                               open on this thread, or it is read-only
     */
    @Override
    public <P extends Record> Map<String, Long> publishAll(Channel<P> channel, Map<String, ? extends P> payloadsByKey,
            PublishOptions options) {
        return joined(tx -> tx.publishAll(channel, payloadsByKey, options));
    }

    /**
     * Publishes in transactions of their own instead: each call takes a connection of the
     * application's DataSource, publishes, commits and gives the connection back, whether or not a
     * transaction is open on the calling thread (which it does not join).
     *
     * @return a publisher whose every call commits on its own
     */
    public TxPublisher inOwnTransaction() {
        return own;
    }

    /**
     * The core publisher this one publishes with.
     *
     * @return the publisher (its schema and payload cap)
     */
    public Publisher publisher() {
        return publisher;
    }

    private <T> T joined(Function<TxPublisher, T> publish) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw refused("no Spring transaction is open on this thread");
        }
        if (TransactionSynchronizationManager.isCurrentTransactionReadOnly()) {
            throw refused("the Spring transaction open on this thread is read-only");
        }
        if (!(TransactionSynchronizationManager.getResource(dataSource) instanceof ConnectionHolder)) {
            throw refused("the Spring transaction open on this thread is not on the application's DataSource (it is "
                    + "another transaction manager's)");
        }
        Connection c = DataSourceUtils.getConnection(dataSource);
        try {
            if (c.getAutoCommit()) {
                throw refused("the Spring transaction open on this thread holds no transaction on the application's "
                        + "DataSource (its connection is in autocommit mode)");
            }
            return publish.apply(publisher.in(c));
        } catch (SQLException e) {
            throw new IllegalStateException("Could not read the transaction's connection: " + e.getMessage(), e);
        } finally {
            DataSourceUtils.releaseConnection(c, dataSource);
        }
    }

    private static IllegalStateException refused(String why) {
        return new IllegalStateException("pgpubsub publishes in the caller's Spring transaction, but " + why
                + ", so nothing was published. Call it from a @Transactional method (or a TransactionTemplate) on the "
                + "application's DataSource, or use inOwnTransaction() to publish in a transaction of its own.");
    }
}
