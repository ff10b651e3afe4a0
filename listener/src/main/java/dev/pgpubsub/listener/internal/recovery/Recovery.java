package dev.pgpubsub.listener.internal.recovery;

import dev.pgpubsub.listener.RecoveryProgress;
import dev.pgpubsub.listener.internal.Threads;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery: drains the rows that were already due when the listener started, oldest first,
 * through a server-side cursor with a fixed fetch size, so that memory stays flat whatever the
 * backlog. The cursor only reads ids; each fetched batch is claimed by id on worker connections
 * ({@code FOR UPDATE SKIP LOCKED}), run and committed, chunk by chunk, so that a crash loses no
 * completed work and redoes only what had not committed.
 */
public final class Recovery {

    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);
    private static final String CURSOR = "pgpubsub_recovery";
    private static final Pattern PLAN_ROWS = Pattern.compile("\"Plan Rows\":\\s*([0-9.eE+]+)");
    private static final long PROGRESS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** Runs the rows of one chunk (all of one channel) and returns how many completed. */
    @FunctionalInterface
    public interface ChunkRunner {
        /**
         * Claims, runs and commits the given rows. If a handler overruns its timeout, the call is
         * abandoned: {@code onAbandoned} is called (on another thread) so that recovery carries on
         * without it, and the call returns whenever the handler does.
         */
        long run(String channel, long[] ids, Runnable onAbandoned) throws Exception;
    }

    /**
     * What recovery needs.
     *
     * @param schema     the installation's schema
     * @param channels   the channels served
     * @param fetchSize  rows read from the cursor per round trip
     * @param chunkSize  rows claimed per transaction
     * @param parallel   chunks running at once
     * @param name       names the threads
     */
    public record Settings(String schema, List<String> channels, int fetchSize, int chunkSize, int parallel, String name) {
    }

    private final Settings settings;
    private final DataSource dataSource;
    private final ChunkRunner runner;
    private final BooleanSupplier keepGoing;
    private final ProgressLog progress;

    /** Recovery for {@code settings}; {@code keepGoing} turning false stops it between chunks. */
    public Recovery(Settings settings, DataSource dataSource, ChunkRunner runner, BooleanSupplier keepGoing,
            Consumer<RecoveryProgress> observer) {
        this.settings = settings;
        this.dataSource = dataSource;
        this.runner = runner;
        this.keepGoing = keepGoing;
        this.progress = new ProgressLog(LOG, PROGRESS_EVERY_NANOS, observer);
    }

    /**
     * Drains the backlog; returns the number of tasks completed. Wake-ups that arrive meanwhile are
     * left queued (each channel at most once) for the claim loop that starts afterwards.
     */
    public long run() throws SQLException, InterruptedException {
        // Claim order: the tasks of a priority above 0 first (few, as a rule: sorted, highest first,
        // before the first FETCH returns), then the others in the order of the (channel, run_at, id)
        // index, as before priorities. No ORDER BY over the UNION: a cursor's plan is never parallel,
        // and an Append returns its branches one after the other, so each branch's order holds.
        String table = settings.schema() + ".notification";
        String query = "(SELECT id, channel FROM " + table + " WHERE channel = ANY(?) AND priority > 0 AND run_at <= now()"
                + " ORDER BY priority DESC, run_at, id) UNION ALL (SELECT id, channel FROM " + table
                + " WHERE channel = ANY(?) AND priority = 0 AND run_at <= now() ORDER BY run_at, id)";
        // Threads as needed: at most `parallel` chunks run at once (the semaphore), plus the threads of
        // abandoned chunks, whose handlers overran their timeout (capped by the worker pool).
        ExecutorService pool = Executors.newCachedThreadPool(Threads.factory(settings.name() + "-recovery", true));
        Semaphore slots = new Semaphore(settings.parallel());
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                long estimate = begin(c, query);
                progress.start(estimate);
                try (Statement fetch = c.createStatement()) {
                    while (keepGoing.getAsBoolean() && failure.get() == null) {
                        Map<String, List<Long>> byChannel = fetch(fetch);
                        if (byChannel.isEmpty()) {
                            break;
                        }
                        for (Map.Entry<String, List<Long>> entry : byChannel.entrySet()) {
                            submitChunks(pool, slots, failure, entry.getKey(), entry.getValue());
                        }
                    }
                }
                // Wait for the chunks in flight: on a stop, the worker pool lets them finish within
                // the grace period and releases the rest, so they end; one whose handler ignores
                // that is waited for a minute at most.
                awaitChunks(slots);
            } finally {
                c.rollback(); // read-only: closes the cursor and ends the snapshot
            }
        } finally {
            // Every chunk has finished, or was abandoned by the watchdog (its thread, a daemon, may
            // never return): nothing to wait for.
            pool.shutdown();
        }
        Exception failed = failure.get();
        if (failed instanceof SQLException e) {
            throw e;
        }
        if (failed != null) {
            throw new IllegalStateException(failed);
        }
        return progress.finish(keepGoing.getAsBoolean());
    }

    /**
     * Opens the read-only transaction and the cursor; returns an estimate of the rows to drain, never
     * a count over the table: the larger of the planner's estimate (table statistics, which lag behind
     * a fresh bulk insert) and, per channel, the id span between its first and last due row in claim
     * order (two index probes; off where run_at order and id order disagree).
     */
    private long begin(Connection c, String query) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET TRANSACTION READ ONLY");
            // The cursor keeps this transaction open between fetches: no idle timeout for it alone.
            s.execute("SET LOCAL idle_in_transaction_session_timeout = 0");
        }
        String table = settings.schema() + ".notification";
        String due = " FROM " + table + " WHERE channel = ? AND run_at <= now() ORDER BY ";
        long estimate = 0;
        try (PreparedStatement bounds = c.prepareStatement("SELECT (SELECT id" + due + "run_at, id LIMIT 1), "
                + "(SELECT id" + due + "run_at DESC, id DESC LIMIT 1)")) {
            for (String channel : settings.channels()) {
                bounds.setString(1, channel);
                bounds.setString(2, channel);
                try (ResultSet rs = bounds.executeQuery()) {
                    rs.next();
                    long first = rs.getLong(1);
                    if (!rs.wasNull()) {
                        estimate += Math.abs(rs.getLong(2) - first) + 1;
                    }
                }
            }
        }
        Array cursorChannels = channels(c);
        try (PreparedStatement declare = c.prepareStatement("DECLARE " + CURSOR + " NO SCROLL CURSOR FOR " + query)) {
            declare.setArray(1, cursorChannels);
            declare.setArray(2, cursorChannels);
            declare.execute();
        } finally {
            cursorChannels.free();
        }
        Array channels = channels(c);
        try (PreparedStatement explain = c.prepareStatement("EXPLAIN (FORMAT JSON) " + query)) {
            explain.setArray(1, channels);
            explain.setArray(2, channels);
            try (ResultSet rs = explain.executeQuery()) {
                Matcher m = rs.next() ? PLAN_ROWS.matcher(rs.getString(1)) : null;
                if (m != null && m.find()) {
                    estimate = Math.max(estimate, (long) Double.parseDouble(m.group(1)));
                }
            }
        } finally {
            channels.free();
        }
        return estimate;
    }

    private Map<String, List<Long>> fetch(Statement fetch) throws SQLException {
        Map<String, List<Long>> byChannel = new LinkedHashMap<>();
        try (ResultSet rs = fetch.executeQuery("FETCH " + settings.fetchSize() + " FROM " + CURSOR)) {
            while (rs.next()) {
                byChannel.computeIfAbsent(rs.getString(2), k -> new ArrayList<>()).add(rs.getLong(1));
            }
        }
        return byChannel;
    }

    private void submitChunks(ExecutorService pool, Semaphore slots, AtomicReference<Exception> failure,
            String channel, List<Long> ids) throws InterruptedException {
        for (int from = 0; from < ids.size(); from += settings.chunkSize()) {
            long[] chunk = ids.subList(from, Math.min(ids.size(), from + settings.chunkSize()))
                    .stream().mapToLong(Long::longValue).toArray();
            if (!acquire(slots)) {
                return; // stopping: no more chunks
            }
            AtomicBoolean freed = new AtomicBoolean();
            Runnable free = () -> {
                if (freed.compareAndSet(false, true)) {
                    slots.release();
                }
            };
            pool.execute(() -> {
                try {
                    progress.add(chunk.length, runner.run(channel, chunk, free));
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                } finally {
                    free.run();
                }
            });
        }
    }

    /** Waits until no chunk is in flight, or, once told to stop, for at most a minute more. */
    private void awaitChunks(Semaphore slots) throws InterruptedException {
        int afterStop = 0;
        while (!slots.tryAcquire(settings.parallel(), 1, TimeUnit.SECONDS)) {
            if (!keepGoing.getAsBoolean() && ++afterStop >= 60) {
                LOG.warn("Start-up recovery stops with {} chunk(s) still running", settings.parallel()
                        - slots.availablePermits());
                return;
            }
        }
        slots.release(settings.parallel());
    }

    /** Waits for a chunk's permit; false (without it) once recovery is told to stop. */
    private boolean acquire(Semaphore slots) throws InterruptedException {
        while (keepGoing.getAsBoolean()) {
            if (slots.tryAcquire(1, 1, TimeUnit.SECONDS)) {
                if (keepGoing.getAsBoolean()) {
                    return true;
                }
                slots.release(); // told to stop while waiting
                return false;
            }
        }
        return false;
    }

    /** A text[] of the channels; free it after use (pgjdbc-ng holds it in direct memory). */
    private Array channels(Connection c) throws SQLException {
        return c.createArrayOf("text", settings.channels().toArray());
    }

    /** How long recovery took so far, for messages. */
    static String seconds(long nanos) {
        return String.format("%.1f s", Duration.ofNanos(nanos).toMillis() / 1000.0);
    }
}
