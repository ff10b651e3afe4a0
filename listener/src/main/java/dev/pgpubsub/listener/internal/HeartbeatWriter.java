package dev.pgpubsub.listener.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upserts the listener's row of {@code listener_heartbeat} at a fixed interval, on a thread of its
 * own, in a transaction of its own under a statement timeout: what the console's Listeners page and
 * throughput chart read, since another session's LISTEN state cannot be read from SQL and done tasks
 * are deleted. A row expires three intervals after its last write; each beat also deletes a few
 * expired rows of any listener, so the table stays as small as the number of live listeners.
 *
 * <p>It borrows a connection for a moment each interval: from the listener's own pool, which has one
 * more connection than {@link WorkerConnections#needed} for it, or from the application's DataSource.
 * A failure, of the write or of gathering what to write, is logged once per outage and stops neither
 * the beats nor the listener; claims never wait for it.
 */
final class HeartbeatWriter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HeartbeatWriter.class);

    /** Expired rows deleted per beat at most: a crashed fleet is cleared in a few beats. */
    static final int EXPIRED_PER_BEAT = 100;

    /**
     * Consecutive failed writes after which the database is taken for down and the last beat is not
     * tried at close: one failure may be a beat that timed out on a busy server, two an interval
     * apart look like an outage.
     */
    static final int FAILED_WRITES_TO_SKIP_LAST = 2;

    /** What one beat writes. */
    record Beat(String state, boolean listening, Long recoveryDone, Long recoveryEstimated, long tasksDone,
            long tasksFailed) {
    }

    private final DataSource dataSource;
    private final String upsert;
    private final String deleteExpired;
    private final String listener;
    private final List<String> channels;
    private final Instant startedAt;
    private final Duration interval;
    private final Duration timeout;
    private final Supplier<Beat> beat;
    private final ScheduledExecutorService scheduler;
    // Whether the last beat failed, for logging once per outage.
    private volatile boolean failing;
    // Consecutive beats whose write failed: written by the scheduler's thread, then by the last beat's.
    private volatile int failedWrites;

    HeartbeatWriter(DataSource dataSource, String schema, String listener, List<String> channels, Instant startedAt,
            Duration interval, Duration timeout, Supplier<Beat> beat) {
        this.dataSource = dataSource;
        this.listener = listener;
        this.channels = List.copyOf(channels);
        this.startedAt = startedAt;
        this.interval = interval;
        this.timeout = timeout;
        this.beat = beat;
        this.upsert = upsert(schema);
        this.deleteExpired = deleteExpired(schema);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(Threads.factory(listener + "-heartbeat", false));
    }

    /** The upsert of this process's row: one row per (host, pid, listener). */
    static String upsert(String schema) {
        return "INSERT INTO " + schema + ".listener_heartbeat AS h (listener, host, pid, channels, state, listening,"
                + " recovery_done, recovery_estimated, tasks_done, tasks_failed, started_at, beat_at, expires_at)"
                + " VALUES (?, ?, ?, ?::text[], ?, ?, ?, ?, ?, ?, ?, now(), now() + ?::interval)"
                + " ON CONFLICT (host, pid, listener) DO UPDATE SET channels = excluded.channels, state = excluded.state,"
                + " listening = excluded.listening, recovery_done = excluded.recovery_done,"
                + " recovery_estimated = excluded.recovery_estimated, tasks_done = excluded.tasks_done,"
                + " tasks_failed = excluded.tasks_failed, started_at = excluded.started_at, beat_at = excluded.beat_at,"
                + " expires_at = excluded.expires_at";
    }

    /** Deletes a bounded number of expired rows, skipping rows another listener is deleting. */
    static String deleteExpired(String schema) {
        return "DELETE FROM " + schema + ".listener_heartbeat h WHERE (h.host, h.pid, h.listener) IN (SELECT e.host, e.pid,"
                + " e.listener FROM " + schema + ".listener_heartbeat e WHERE e.expires_at < now() LIMIT "
                + EXPIRED_PER_BEAT + " FOR UPDATE SKIP LOCKED)";
    }

    /** Beats every interval, the first time at once. */
    void start() {
        long every = Math.max(1, interval.toMillis());
        scheduler.scheduleWithFixedDelay(this::beatQuietly, 0, every, TimeUnit.MILLISECONDS);
    }

    // Never throws: an exception would cancel the schedule, and every later beat with it.
    private void beatQuietly() {
        Beat b;
        try {
            b = beat.get();
        } catch (RuntimeException e) {
            failed("gathering its heartbeat failed", e, true);
            return;
        }
        write(b);
    }

    /**
     * Writes one beat, and deletes expired rows; logs a failure (once per outage) instead of throwing.
     *
     * @return whether it was written
     */
    boolean write(Beat b) {
        try {
            writeOrThrow(b);
            failedWrites = 0;
            if (failing) {
                LOG.info("Listener {}: writing its heartbeat works again", listener);
                failing = false;
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            failedWrites++;
            failed("writing its heartbeat failed", e, false);
            return false;
        }
    }

    // A bug (the beat's supplier threw) is logged with its stack trace; a database failure by its message.
    private void failed(String what, Exception e, boolean bug) {
        if (!failing) {
            String message = "Listener {}: {}; the console shows it as silent until a beat works (trying again every {}): {}";
            if (bug) {
                LOG.warn(message, listener, what, Durations.describe(interval), e.toString(), e);
            } else {
                LOG.warn(message, listener, what, Durations.describe(interval), WorkerConnections.rootMessage(e));
            }
            failing = true;
        } else {
            LOG.debug("Listener {}: {} again: {}", listener, what, WorkerConnections.rootMessage(e));
        }
    }

    private void writeOrThrow(Beat b) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // the timeout is local to this transaction
            boolean committed = false;
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
                    ps.setString(1, timeout.toMillis() + "ms");
                    ps.executeQuery().close();
                }
                try (PreparedStatement ps = c.prepareStatement(upsert)) {
                    ps.setString(1, listener);
                    ps.setString(2, SessionNames.hostName());
                    ps.setLong(3, SessionNames.pid());
                    ps.setArray(4, c.createArrayOf("text", channels.toArray()));
                    ps.setString(5, b.state());
                    ps.setBoolean(6, b.listening());
                    setLong(ps, 7, b.recoveryDone());
                    setLong(ps, 8, b.recoveryEstimated());
                    ps.setLong(9, b.tasksDone());
                    ps.setLong(10, b.tasksFailed());
                    ps.setTimestamp(11, Timestamp.from(startedAt));
                    ps.setString(12, interval.toMillis() * 3 + " milliseconds");
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(deleteExpired)) {
                    ps.executeUpdate();
                }
                c.commit();
                committed = true;
            } finally {
                if (!committed) {
                    c.rollback();
                }
                c.setAutoCommit(autoCommit);
            }
        }
    }

    private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, value);
        }
    }

    /**
     * Stops beating, then writes the last beat (the listener stopped), waiting for it at most its
     * statement timeout and a little more. Skipped when at least the last
     * {@value #FAILED_WRITES_TO_SKIP_LAST} writes failed in a row, so that a close in an outage does not
     * wait for the database once more; tried after a single failed write, which may have been a passing one.
     *
     * @param last what the last beat says
     */
    void close(Beat last) {
        close();
        if (failedWrites >= FAILED_WRITES_TO_SKIP_LAST) {
            return;
        }
        Thread writer = Threads.start(listener + "-heartbeat-last", () -> write(last));
        try {
            writer.join(timeout.toMillis() + 2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops beating; waits a little for a beat under way (its timeout bounds it). */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(2, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
