package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers: each takes a channel with work from the {@link WakeQueue}, claims batches of its due
 * rows and runs their handlers, each batch in the transaction that deletes its rows. A watchdog
 * aborts the transaction of a handler that overruns its timeout and replaces its thread.
 */
public final class WorkerPool {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    /** Batches one worker claims from a channel before it lets the next channel have a turn. */
    static final int MAX_BATCHES_PER_TURN = 10;
    /** The first delay before trying a channel again after a database error; it doubles per error. */
    static final long FIRST_RETRY_AFTER_ERROR_MILLIS = 100;
    /** The longest delay before trying a channel again after database errors. */
    static final long MAX_RETRY_AFTER_ERROR_MILLIS = 30_000;
    /** The longest cooldown of a channel whose turns keep finding nothing (see {@link WakeQueue}). */
    static final long EMPTY_TURN_COOLDOWN_MILLIS = 50;

    /**
     * What the workers need.
     *
     * @param name             names the threads
     * @param workers          how many run at once
     * @param batchSize        rows claimed per transaction
     * @param policies         each channel's retries and handler timeout
     * @param grace            how long {@link #close()} lets running handlers finish
     * @param maxPayloadBytes  larger payloads go to the dead letters unread
     * @param statementTimeout set on each connection for the library's own statements, or null when
     *                         the connections come with it already
     * @param maxAbandoned     overrunning handler threads left behind at most; past this, a timed-out
     *                         worker is not replaced
     * @param outageLimit      how long claims may keep failing before {@code onGiveUp} is called
     * @param onGiveUp         told when the database stayed unusable for longer than {@code outageLimit}
     */
    public record Settings(String name, int workers, int batchSize, Map<String, ChannelPolicy> policies, Duration grace,
            int maxPayloadBytes, Duration statementTimeout, int maxAbandoned, Duration outageLimit,
            Consumer<Throwable> onGiveUp) {
    }

    private final Settings settings;
    private final DataSource dataSource;
    private final ClaimStatements statements;
    private final BatchRunner runner;
    private final WakeQueue queue;
    private final ScheduledExecutorService scheduler;
    private final ScheduledExecutorService watchdog;
    private final DueTimer timer;
    private final List<Thread> threads = new ArrayList<>();
    /** The slots of threads running handlers now: workers and start-up recovery's. */
    private final Set<WorkerSlot> active = ConcurrentHashMap.newKeySet();
    private final List<Thread> abandoned = new ArrayList<>();
    private final Map<String, Integer> errorStreaks = new ConcurrentHashMap<>();
    private final AtomicLong failingSince = new AtomicLong();
    private final LongAdder turns = new LongAdder();
    private final LongAdder recovered = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private volatile boolean running;
    private boolean closed;

    /** Workers for the channels of {@code registry}, taking connections from {@code dataSource}. */
    public WorkerPool(Settings settings, DataSource dataSource, ClaimStatements statements, HandlerRegistry registry,
            PayloadCodec codec) {
        this.settings = settings;
        this.dataSource = dataSource;
        this.statements = statements;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, settings.name() + "-timer"));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, settings.name() + "-watchdog"));
        List<String> channels = registry.all().stream().map(RegisteredHandler::channel).toList();
        this.queue = new WakeQueue(channels, settings.workers(), scheduler, EMPTY_TURN_COOLDOWN_MILLIS);
        this.timer = new DueTimer(scheduler, queue, channels);
        this.runner = new BatchRunner(statements, registry, settings.policies(), codec, settings.maxPayloadBytes(), timer);
        long shortest = settings.policies().values().stream().mapToLong(p -> p.handlerTimeout().toMillis()).min().orElse(1_000);
        long every = Math.max(10, Math.min(shortest / 10, 1_000));
        watchdog.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Starts the workers and the safety-net poll that wakes every channel each {@code pollInterval}. */
    public synchronized void start(Duration pollInterval) {
        if (closed || running) {
            return;
        }
        running = true;
        for (int i = 0; i < settings.workers(); i++) {
            startWorker(i + 1);
        }
        long poll = pollInterval.toMillis();
        scheduler.scheduleWithFixedDelay(queue::wakeAll, poll, poll, TimeUnit.MILLISECONDS);
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private synchronized void startWorker(int number) {
        Thread t = new Thread(() -> work(number), settings.name() + "-worker-" + number);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    /**
     * Stops claiming, lets running batches finish within the grace period, then aborts the
     * connections of those still running (their transactions roll back), makes their tasks due again
     * and waits for the threads.
     */
    public void close() {
        List<Thread> workers;
        synchronized (this) {
            closed = true;
            scheduler.shutdownNow();
            watchdog.shutdownNow();
            if (!running) {
                return;
            }
            running = false;
            queue.stop(threads.size());
            workers = List.copyOf(threads);
        }
        long deadline = System.nanoTime() + settings.grace().toNanos();
        joinUntil(workers, deadline);
        long[] aborted = abortRemaining();
        joinUntil(workers, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        release(aborted, "aborted by the shutdown");
        for (Thread t : workers) {
            if (t.isAlive()) {
                LOG.warn("Worker thread {} did not stop: its handler is still running outside any transaction", t.getName());
            }
        }
        synchronized (this) {
            threads.clear();
        }
    }

    private static void joinUntil(List<Thread> threads, long deadline) {
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
        for (WorkerSlot slot : active) {
            Connection c = slot.connection();
            if (c != null && slot.abandon()) {
                LOG.warn("Aborting a batch still running after the {} grace period; its tasks roll back", settings.grace());
                long[] batch = slot.batch();
                if (batch != null) {
                    for (long id : batch) {
                        ids.add(id);
                    }
                }
                abort(c);
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    private static void abort(Connection c) {
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Abort failed", e);
        }
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Closing an aborted connection failed", e);
        }
    }

    /** Makes tasks of aborted batches due at once, their attempt not counted. */
    private void release(long[] ids, String why) {
        if (ids.length == 0) {
            return;
        }
        try (Connection c = connection()) {
            int released = statements.release(c, ids);
            LOG.info("Released {} task(s) {}: due again at once", released, why);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not release {} task(s) {} ({}); they are due again after their retry delay", ids.length, why,
                    e.toString());
        }
    }

    /** The watchdog's round: aborts the transaction of every handler call past its timeout. */
    private void sweep() {
        long now = System.nanoTime();
        for (WorkerSlot slot : active) {
            WorkerSlot.Call call = slot.call();
            if (call != null && now - call.deadline() > 0 && slot.call() == call && slot.abandon()) {
                try {
                    timedOut(slot, call);
                } catch (RuntimeException e) {
                    LOG.error("Handling the timeout of task {} failed", call.taskId(), e);
                }
            }
        }
    }

    private void timedOut(WorkerSlot slot, WorkerSlot.Call call) {
        timeouts.increment();
        active.remove(slot);
        long[] batch = slot.batch();
        Connection c = slot.connection();
        if (c != null) {
            abort(c); // the server rolls the transaction back: the task and its batch are pending again
            close(c); // back to its pool, which drops it (it is broken): the hung thread may never return it
        }
        slot.thread.interrupt();
        synchronized (this) {
            threads.remove(slot.thread); // a shutdown does not wait for it
        }
        int stuck;
        synchronized (abandoned) {
            abandoned.removeIf(t -> !t.isAlive());
            abandoned.add(slot.thread);
            stuck = abandoned.size();
        }
        String error = "handler timed out after " + call.timeoutMillis() + " ms (attempt " + call.attempt()
                + "); its transaction was aborted";
        LOG.warn("Task {} on channel '{}': {}; thread {} abandoned ({} abandoned thread(s) still alive)", call.taskId(),
                call.channel(), error, slot.thread.getName(), stuck);
        ChannelPolicy policy = runner.policy(call.channel());
        try (Connection fresh = connection()) {
            long retryIn = statements.recordFailure(fresh, call.taskId(), call.attempt(), error, policy);
            runner.countFailure();
            if (retryIn == ClaimStatements.BURIED) {
                runner.buried(call.channel(), List.of(call.taskId()), error + ", its last attempt");
            } else if (retryIn >= 0) {
                timer.wakeIn(call.channel(), retryIn);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Could not record the timeout of task {} ({}); it is due again after its retry delay", call.taskId(),
                    e.toString());
        }
        if (batch != null) {
            long[] others = Arrays.stream(batch).filter(id -> id != call.taskId()).toArray();
            release(others, "of a batch aborted by another task's timeout");
        }
        if (slot.workerNumber == 0 ? !isClosed() : running) {
            if (stuck <= settings.maxAbandoned()) {
                if (slot.workerNumber > 0) {
                    startWorker(slot.workerNumber);
                } else if (slot.onAbandoned != null) {
                    slot.onAbandoned.run();
                }
            } else {
                LOG.error("{} handler threads overran their timeout and are still running, more than the {} allowed: worker "
                        + "{} is not replaced. Fix the handlers that hang (see the warnings above) and restart.", stuck,
                        settings.maxAbandoned(), slot.workerNumber);
            }
        }
    }

    private void work(int number) {
        WorkerSlot slot = new WorkerSlot(Thread.currentThread(), number, null);
        active.add(slot);
        try {
            while (running && !slot.abandoned()) {
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
                serve(slot, channel);
            }
        } finally {
            active.remove(slot);
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

    /**
     * Counters: turns, batches, tasks done, failures, tasks done by start-up recovery, handler
     * timeouts, tasks moved to the dead letters, abandoned threads still alive.
     */
    public long[] counters() {
        long stuck;
        synchronized (abandoned) {
            abandoned.removeIf(t -> !t.isAlive());
            stuck = abandoned.size();
        }
        return new long[] {turns.sum(), runner.batches(), runner.done(), runner.failures(), recovered.sum(), timeouts.sum(),
            runner.deadLettered(), stuck};
    }

    /**
     * Claims and runs rows of {@code channel} known by id (start-up recovery), on a connection of
     * the pool: those still due and not held elsewhere are counted, run and deleted, as any batch.
     * If a handler overruns its timeout, {@code onAbandoned} is called (from the watchdog) and this
     * call returns whenever the handler does, having done nothing more.
     *
     * @return how many of them this call completed
     */
    public long runRecovered(String channel, long[] ids, Runnable onAbandoned) throws SQLException {
        WorkerSlot slot = new WorkerSlot(Thread.currentThread(), 0, onAbandoned);
        active.add(slot);
        Connection c = connection();
        try {
            slot.use(c);
            ChannelPolicy policy = runner.policy(channel);
            ClaimStatements.Claim claim = statements.countByIds(c, channel, ids, policy);
            runner.buried(channel, claim.buried(), ClaimStatements.DIED + ", in its last attempt");
            int completed = claim.counted().isEmpty() ? 0 : runner.runBatch(c, channel, claim.counted(), slot);
            recovered.add(completed);
            return completed;
        } catch (WorkerSlot.Abandoned e) {
            return 0;
        } catch (SQLException e) {
            if (slot.abandoned()) {
                return 0;
            }
            throw e;
        } finally {
            active.remove(slot);
            giveBack(c, slot);
        }
    }

    /**
     * Returns a connection to its pool, first putting back the pool's own statement timeout when the
     * library set its own (connections of the listener's own pool are opened with it, and keep it).
     */
    private void giveBack(Connection c, WorkerSlot slot) {
        try {
            if (settings.statementTimeout() != null && !slot.abandoned()) {
                c.setAutoCommit(true); // outside any transaction here: no round trip, and RESET needs no commit
                try (Statement s = c.createStatement()) {
                    s.execute("RESET statement_timeout");
                }
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Could not reset the statement timeout", e);
        } finally {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("Closing a connection failed", e);
            }
        }
    }

    /** A connection for the library's own statements: READ COMMITTED, no autocommit, its statement timeout set. */
    private Connection connection() throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            if (settings.statementTimeout() != null) {
                c.setAutoCommit(true); // a session setting, in one round trip without a commit
                try (Statement s = c.createStatement()) {
                    s.execute("SET statement_timeout = " + settings.statementTimeout().toMillis());
                }
            }
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** One turn on a channel: claim and run batches until it is drained or the turn is over. */
    private void serve(WorkerSlot slot, String channel) {
        turns.increment();
        ChannelPolicy policy = runner.policy(channel);
        Connection c = null;
        try {
            c = connection();
            slot.use(c);
            try {
                boolean drained = false;
                for (int turn = 0; turn < MAX_BATCHES_PER_TURN && running; turn++) {
                    ClaimStatements.Claim claim = statements.count(c, channel, settings.batchSize(), policy);
                    runner.buried(channel, claim.buried(), ClaimStatements.DIED + ", in its last attempt");
                    List<ClaimedTask> claimed = claim.counted();
                    int found = claimed.size() + claim.buried().size();
                    if (found == settings.batchSize()) {
                        queue.wake(channel); // more is due: let an idle worker join in
                    }
                    if (!claimed.isEmpty()) {
                        queue.foundWork(channel);
                        runner.runBatch(c, channel, claimed, slot);
                    }
                    if (found < settings.batchSize()) {
                        drained = true;
                        if (turn == 0 && found == 0) {
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
                slot.use(null);
            }
            recovered();
        } catch (WorkerSlot.Abandoned e) {
            // The watchdog took over this thread's batch; the thread ends.
        } catch (SQLException | RuntimeException e) {
            if (running && !slot.abandoned()) {
                failed(channel, e);
            }
        } finally {
            if (c != null) {
                giveBack(c, slot);
            }
        }
    }

    /** A turn succeeded: the outage, if there was one, is over. Reads only, unless there was one. */
    private void recovered() {
        if (failingSince.get() != 0 && failingSince.getAndSet(0) != 0) {
            LOG.info("Claiming works again");
        }
        if (!errorStreaks.isEmpty()) {
            errorStreaks.clear();
        }
    }

    /** A database error on a turn: retry the channel with backoff; give up after the outage limit. */
    private void failed(String channel, Exception e) {
        long now = System.nanoTime();
        failingSince.compareAndSet(0, now);
        long since = failingSince.get();
        if (since != 0 && now - since > settings.outageLimit().toNanos()) {
            LOG.error("Claiming has failed for longer than {}; giving up: {}", settings.outageLimit(), e.toString());
            settings.onGiveUp().accept(e);
            return;
        }
        int streak = errorStreaks.merge(channel, 1, Integer::sum);
        long base = Math.min(MAX_RETRY_AFTER_ERROR_MILLIS, FIRST_RETRY_AFTER_ERROR_MILLIS << Math.min(streak - 1, 20));
        long delay = (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble() / 2));
        LOG.warn("Claiming on channel '{}' failed ({} in a row); trying again in {} ms: {}", channel, streak, delay,
                e.toString());
        timer.wakeIn(channel, delay);
    }
}
