package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers: each takes a channel with work from the {@link WakeQueue}, claims batches of its due
 * rows and runs their handlers, each batch in the transaction that deletes its rows.
 */
public final class WorkerPool {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    /** Batches one worker claims from a channel before it lets the next channel have a turn. */
    static final int MAX_BATCHES_PER_TURN = 10;
    /** How long to wait before trying a channel again after a database error. */
    static final long RETRY_AFTER_ERROR_MILLIS = 1_000;
    /** The longest cooldown of a channel whose turns keep finding nothing (see {@link WakeQueue}). */
    static final long EMPTY_TURN_COOLDOWN_MILLIS = 50;

    /**
     * What the workers need.
     *
     * @param name      names the threads
     * @param workers   how many run at once
     * @param batchSize rows claimed per transaction
     * @param backoff   when failed attempts are retried
     * @param grace     how long {@link #close()} lets running handlers finish
     */
    public record Settings(String name, int workers, int batchSize, Backoff backoff, Duration grace) {
    }

    private final Settings settings;
    private final DataSource dataSource;
    private final ClaimStatements statements;
    private final BatchRunner runner;
    private final WakeQueue queue;
    private final ScheduledExecutorService scheduler;
    private final DueTimer timer;
    private final List<Thread> threads = new ArrayList<>();
    private final Connection[] inUse;
    /** Per worker, the ids of the batch it is running (empty when idle). */
    private final long[][] inFlight;
    private final LongAdder turns = new LongAdder();
    private final LongAdder recovered = new LongAdder();
    private volatile boolean running;
    private boolean closed;

    /** Workers for the channels of {@code registry}, taking connections from {@code dataSource}. */
    public WorkerPool(Settings settings, DataSource dataSource, ClaimStatements statements, HandlerRegistry registry,
            PayloadCodec codec) {
        this.settings = settings;
        this.dataSource = dataSource;
        this.statements = statements;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, settings.name() + "-timer");
            t.setDaemon(true);
            return t;
        });
        List<String> channels = registry.all().stream().map(RegisteredHandler::channel).toList();
        this.queue = new WakeQueue(channels, settings.workers(), scheduler, EMPTY_TURN_COOLDOWN_MILLIS);
        this.timer = new DueTimer(scheduler, queue, channels);
        this.runner = new BatchRunner(statements, registry, codec, settings.backoff(), timer);
        this.inUse = new Connection[settings.workers()];
        this.inFlight = new long[settings.workers()][];
    }

    /** Starts the workers and the safety-net poll that wakes every channel each {@code pollInterval}. */
    public synchronized void start(Duration pollInterval) {
        if (closed || running) {
            return;
        }
        running = true;
        for (int i = 0; i < settings.workers(); i++) {
            int index = i;
            Thread t = new Thread(() -> work(index), settings.name() + "-worker-" + (i + 1));
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        long poll = pollInterval.toMillis();
        scheduler.scheduleWithFixedDelay(queue::wakeAll, poll, poll, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops claiming, lets running batches finish within the grace period, then aborts the
     * connections of those still running (their transactions roll back) and waits for the threads.
     */
    public synchronized void close() {
        closed = true;
        scheduler.shutdownNow();
        if (!running) {
            return;
        }
        running = false;
        queue.stop(threads.size());
        long deadline = System.nanoTime() + settings.grace().toNanos();
        joinUntil(deadline);
        long[] aborted = abortRemaining();
        joinUntil(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        release(aborted);
        for (Thread t : threads) {
            if (t.isAlive()) {
                LOG.warn("Worker thread {} did not stop: its handler is still running outside any transaction", t.getName());
            }
        }
        threads.clear();
    }

    private void joinUntil(long deadline) {
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Aborts the connections of batches still running; returns their task ids. */
    private long[] abortRemaining() {
        List<Long> ids = new ArrayList<>();
        synchronized (inUse) {
            for (int i = 0; i < inUse.length; i++) {
                Connection c = inUse[i];
                if (c != null) {
                    LOG.warn("Aborting a batch still running after the {} grace period; its tasks roll back", settings.grace());
                    if (inFlight[i] != null) {
                        for (long id : inFlight[i]) {
                            ids.add(id);
                        }
                    }
                    try {
                        c.abort(Runnable::run);
                    } catch (SQLException | RuntimeException e) {
                        LOG.debug("Abort failed", e);
                    }
                }
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** Makes the tasks of aborted batches due at once, their attempt not counted. */
    private void release(long[] ids) {
        if (ids.length == 0) {
            return;
        }
        try (Connection c = dataSource.getConnection()) {
            prepare(c);
            int released = statements.release(c, ids);
            LOG.info("Released {} task(s) of aborted batches: due again at once", released);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not release the tasks of aborted batches ({}); they are due again after their retry delay",
                    e.toString());
        }
    }

    private void work(int index) {
        while (running) {
            String channel;
            try {
                channel = queue.take(1_000);
            } catch (InterruptedException e) {
                return;
            }
            if (channel == null) {
                continue;
            }
            if (channel.equals(WakeQueue.STOP)) {
                return;
            }
            serve(index, channel);
        }
    }

    /** Announces that {@code channel} may have due work. Never blocks: safe on pgjdbc-ng's I/O thread. */
    public void wake(String channel) {
        queue.wake(channel);
    }

    /** Announces that every channel may have due work. */
    public void wakeAll() {
        queue.wakeAll();
    }

    /** Turns, batches, tasks done, failures and tasks done by start-up recovery so far. */
    public long[] counters() {
        return new long[] {turns.sum(), runner.batches(), runner.done(), runner.failures(), recovered.sum()};
    }

    /**
     * Claims and runs rows of {@code channel} known by id (start-up recovery), on a connection of
     * the pool: those still due and not held elsewhere are counted, run and deleted, as any batch.
     *
     * @return how many of them this call completed
     */
    public long runRecovered(String channel, long[] ids) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            prepare(c);
            List<ClaimedTask> claimed = statements.countByIds(c, channel, ids, settings.backoff());
            if (claimed.isEmpty()) {
                return 0;
            }
            int completed = runner.runBatch(c, channel, claimed);
            recovered.add(completed);
            return completed;
        }
    }

    private static void prepare(Connection c) throws SQLException {
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    }

    /** One turn on a channel: claim and run batches until it is drained or the turn is over. */
    private void serve(int index, String channel) {
        turns.increment();
        try (Connection c = dataSource.getConnection()) {
            prepare(c);
            setInUse(index, c);
            try {
                boolean drained = false;
                for (int turn = 0; turn < MAX_BATCHES_PER_TURN && running; turn++) {
                    List<ClaimedTask> claimed = statements.count(c, channel, settings.batchSize(), settings.backoff());
                    if (claimed.size() == settings.batchSize()) {
                        queue.wake(channel); // more is due: let an idle worker join in
                    }
                    if (!claimed.isEmpty()) {
                        queue.foundWork(channel);
                        setInFlight(index, BatchRunner.ids(claimed));
                        runner.runBatch(c, channel, claimed);
                        setInFlight(index, null);
                    }
                    if (claimed.size() < settings.batchSize()) {
                        drained = true;
                        if (turn == 0 && claimed.isEmpty()) {
                            queue.foundNothing(channel);
                        }
                        break;
                    }
                }
                if (drained && running) {
                    long next = statements.millisUntilNextDue(c, channel);
                    if (next >= 0) {
                        timer.wakeIn(channel, next);
                    }
                }
            } finally {
                setInUse(index, null);
            }
        } catch (SQLException | RuntimeException e) {
            if (running) {
                LOG.warn("Claiming on channel '{}' failed; trying again in {} ms: {}", channel, RETRY_AFTER_ERROR_MILLIS,
                        e.toString());
                timer.wakeIn(channel, RETRY_AFTER_ERROR_MILLIS);
            }
        }
    }

    private void setInUse(int index, Connection c) {
        synchronized (inUse) {
            inUse[index] = c;
            inFlight[index] = null;
        }
    }

    private void setInFlight(int index, long[] ids) {
        synchronized (inUse) {
            inFlight[index] = ids;
        }
    }
}
