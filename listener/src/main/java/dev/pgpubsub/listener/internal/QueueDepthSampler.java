package dev.pgpubsub.listener.internal;

import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.ListenerObserver.QueueDepth;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the served channels' queues for an observer that asks for it: one statement for all of
 * them, on a thread of its own, in a transaction of its own under a statement timeout.
 *
 * <p>Never a {@code COUNT(*)} of the table: per channel, it counts the due rows in index order
 * ({@code (channel, run_at, id)}) and stops at the cap, so that a statement reads at most
 * {@code cap} live due rows per channel, however long the backlog (index entries of deleted rows not
 * yet vacuumed are read past too; the statement timeout bounds the rest). The earliest due row is
 * the first of them, so the age of the oldest is exact even when the count is capped.
 *
 * <p>It borrows a connection of the workers' pool, which serves {@code workers + 2} (one more with
 * schedules, which their timer thread uses): the one start-up recovery's cursor uses, so it does not
 * measure while recovery runs.
 */
final class QueueDepthSampler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QueueDepthSampler.class);

    private final javax.sql.DataSource dataSource;
    private final List<String> channels;
    private final int cap;
    private final Duration timeout;
    private final ListenerObserver observer;
    private final String sql;
    private final ScheduledExecutorService scheduler;
    private final java.util.function.BooleanSupplier recovering;
    private boolean failing;

    /**
     * A sampler, not started.
     *
     * @param dataSource where its connection comes from (the workers' pool)
     * @param schema     the installation's schema, valid
     * @param channels   the channels to measure
     * @param cap        the most due rows counted per channel
     * @param timeout    the statement timeout of each measurement
     * @param observer   receives the measurements
     * @param name       names its thread
     * @param recovering whether start-up recovery runs (and holds the connection this would take)
     */
    QueueDepthSampler(javax.sql.DataSource dataSource, String schema, List<String> channels, int cap,
            Duration timeout, ListenerObserver observer, String name, java.util.function.BooleanSupplier recovering) {
        this.recovering = recovering;
        this.dataSource = dataSource;
        this.channels = List.copyOf(channels);
        this.cap = cap;
        this.timeout = timeout;
        this.observer = observer;
        this.sql = sql(schema);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(Threads.factory(name + "-queue-depth", false));
    }

    /**
     * The measurement. Parameters: the channels (text[]), the cap. The lateral subquery is a range
     * scan of the index per channel, limited to the cap.
     */
    static String sql(String schema) {
        return "SELECT c.channel, d.due, (extract(epoch FROM now() - d.oldest) * 1000)::bigint"
                + " FROM unnest(?::text[]) WITH ORDINALITY AS c(channel, position)"
                + " CROSS JOIN LATERAL (SELECT count(*) AS due, min(run_at) AS oldest FROM (SELECT n.run_at FROM "
                + schema + ".notification n WHERE n.channel = c.channel AND n.run_at <= now()"
                + " ORDER BY n.run_at LIMIT ?) t) d ORDER BY c.position";
    }

    /**
     * Measures every {@code interval}, the first time at once.
     *
     * @param interval how often
     */
    void start(Duration interval) {
        long every = Math.max(1, interval.toMillis());
        scheduler.scheduleWithFixedDelay(this::sampleQuietly, 0, every, TimeUnit.MILLISECONDS);
    }

    private void sampleQuietly() {
        if (recovering.getAsBoolean()) {
            return; // its connection is recovery's now
        }
        try {
            observer.queueDepths(sample());
            if (failing) {
                LOG.info("Measuring the queues works again");
                failing = false;
            }
        } catch (SQLException | RuntimeException e) {
            if (!failing) {
                LOG.warn("Measuring the queues failed; the depth gauges keep their last values until a measurement "
                        + "works (trying again at each interval): {}", WorkerConnections.rootMessage(e));
                failing = true;
            } else {
                LOG.debug("Measuring the queues failed again: {}", WorkerConnections.rootMessage(e));
            }
        }
    }

    /**
     * Measures once.
     *
     * @return one entry per channel, in order
     * @throws SQLException when the statement failed (or overran its timeout)
     */
    List<QueueDepth> sample() throws SQLException {
        List<QueueDepth> depths = new ArrayList<>(channels.size());
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // the timeout is local to this transaction
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
                    ps.setString(1, timeout.toMillis() + "ms");
                    ps.executeQuery().close();
                }
                Array names = c.createArrayOf("text", channels.toArray());
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setArray(1, names);
                    ps.setInt(2, cap);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            long due = rs.getLong(2);
                            depths.add(new QueueDepth(rs.getString(1), due, due >= cap, Math.max(0, rs.getLong(3))));
                        }
                    }
                } finally {
                    names.free();
                }
            } finally {
                c.rollback();
                c.setAutoCommit(autoCommit);
            }
        }
        return depths;
    }

    /** Stops measuring; waits a little for a measurement under way (its timeout bounds it). */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(1, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
