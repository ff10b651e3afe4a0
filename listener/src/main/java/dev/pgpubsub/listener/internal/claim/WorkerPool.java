package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.listener.ClaimTransactions;
import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.internal.Threads;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything that claims and runs tasks, put together: the {@link ClaimLoop}'s workers, start-up
 * recovery's chunks ({@link #runRecovered}), the {@link Watchdog} over both, and an orderly stop.
 */
public final class WorkerPool {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    /** The longest cooldown of a channel whose turns keep finding nothing (see {@link WakeQueue}). */
    static final long EMPTY_TURN_COOLDOWN_MILLIS = 50;

    /**
     * How long {@link #close()} waits, after the grace, for the threads whose batches it aborted:
     * an aborted JDBC call fails at once, but a handler deaf to interrupts runs on.
     */
    static final Duration AFTER_ABORT_WAIT = Duration.ofSeconds(1);

    /**
     * What the workers need.
     *
     * @param name             names the threads
     * @param workers          how many run at once
     * @param batchSize        rows claimed per transaction
     * @param policies         each channel's retries and handler timeout
     * @param grace            how long {@link #close()} lets running handlers finish
     * @param maxPayloadBytes  larger payloads go to the dead letters unread
     * @param maxBatchBytes    payload bytes one claim loads at most (but always its first row)
     * @param statementTimeout how long one of the library's own statements may take
     * @param maxAbandoned     overrunning handler threads left behind at most; past this, a timed-out
     *                         worker is not replaced
     * @param outageLimit      how long claims may keep failing before {@code onGiveUp} is called
     * @param onGiveUp         told when the listener cannot go on: the database stayed unusable for
     *                         longer than {@code outageLimit}, or no worker is left
     */
    public record Settings(String name, int workers, int batchSize, Map<String, ChannelPolicy> policies, Duration grace,
            int maxPayloadBytes, long maxBatchBytes, Duration statementTimeout, int maxAbandoned, Duration outageLimit,
            Consumer<Throwable> onGiveUp) {
    }

    private final Settings settings;
    private final ClaimMetrics metrics;
    private final ActiveSlots active = new ActiveSlots();
    private final List<Thread> abandoned = new ArrayList<>();
    private final ScheduledExecutorService scheduler;
    private final WakeQueue queue;
    private final DueTimer timer;
    private final Bookkeeper bookkeeper;
    private final BatchRunner runner;
    private final OutageBackoff outage;
    private final ClaimLoop loop;
    private final Watchdog watchdog;
    private boolean started;
    private boolean closed;

    /**
     * Workers for the channels of {@code registry}, running claim transactions from {@code transactions}.
     *
     * @param settings     the settings
     * @param transactions where claim transactions come from
     * @param statements   the installation's claim SQL
     * @param registry     the handlers
     * @param codec        reads payloads
     * @param observer     told of each claim, handler call and commit; {@link ListenerObserver#NONE} for none
     * @param tracing      whether handlers run in a trace; {@link TaskTracing#NONE} for none
     */
    public WorkerPool(Settings settings, ClaimTransactions transactions, ClaimStatements statements, HandlerRegistry registry,
            PayloadCodec codec, ListenerObserver observer, TaskTracing tracing) {
        this.settings = settings;
        this.metrics = new ClaimMetrics(observer);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(Threads.factory(settings.name() + "-timer", false));
        List<String> channels = registry.all().stream().map(RegisteredHandler::channel).toList();
        this.queue = new WakeQueue(channels, settings.workers(), scheduler, EMPTY_TURN_COOLDOWN_MILLIS);
        this.timer = new DueTimer(scheduler, queue, channels);
        this.bookkeeper = new Bookkeeper(transactions, statements, settings.statementTimeout());
        this.runner = new BatchRunner(statements, transactions, bookkeeper, registry, settings.policies(), codec,
                new BatchRunner.Limits(settings.maxPayloadBytes(), settings.maxBatchBytes(), settings.statementTimeout()),
                timer, metrics, tracing);
        this.outage = new OutageBackoff(settings.outageLimit(), settings.onGiveUp());
        this.loop = new ClaimLoop(settings.name(), settings.batchSize(), queue, timer, runner, outage, metrics, active,
                settings.onGiveUp());
        long shortest = settings.policies().values().stream().mapToLong(p -> p.handlerTimeout().toMillis()).min().orElse(1_000);
        shortest = Math.min(shortest, settings.statementTimeout().toMillis());
        this.watchdog = new Watchdog(settings.name(), active, Math.max(10, Math.min(shortest / 10, 1_000)), this::timedOut,
                this::stuck);
    }

    /**
     * Starts the workers and the safety-net poll that wakes every channel each {@code pollInterval}.
     *
     * @param pollInterval how often every channel is looked at even without a wake-up
     */
    public synchronized void start(Duration pollInterval) {
        if (closed || started) {
            return;
        }
        started = true;
        loop.start(settings.workers());
        long poll = pollInterval.toMillis();
        scheduler.scheduleWithFixedDelay(queue::wakeAll, poll, poll, TimeUnit.MILLISECONDS);
    }

    /**
     * Announces that {@code channel} may have due work. Never blocks: safe on pgjdbc-ng's I/O thread.
     *
     * @param channel the channel
     */
    public void wake(String channel) {
        queue.wake(channel);
    }

    /** Announces that every channel may have due work. */
    public void wakeAll() {
        queue.wakeAll();
    }

    /**
     * The counters.
     *
     * @return a snapshot
     */
    public ClaimMetrics.Snapshot counters() {
        return metrics.snapshot();
    }

    /**
     * When claims began to fail with no success since.
     *
     * @return the start of the ongoing outage of claims, or null while they succeed
     */
    public java.time.Instant outageSince() {
        return outage.outageSince();
    }

    /**
     * Workers running now: fewer than configured while an abandoned one is not (yet) replaced.
     *
     * @return how many
     */
    public int liveWorkers() {
        return loop.live();
    }

    /**
     * Overrunning handler threads that are still alive.
     *
     * @return how many
     */
    public int abandonedThreads() {
        synchronized (abandoned) {
            abandoned.removeIf(t -> !t.isAlive());
            return abandoned.size();
        }
    }

    /**
     * Claims and runs rows of {@code channel} known by id (start-up recovery): those still due and
     * not held elsewhere are claimed, run and deleted, as any batch. If a handler overruns its
     * timeout, {@code onAbandoned} is called (from the watchdog) and this call returns whenever the
     * handler does, having done nothing more.
     *
     * @param channel     the rows' channel
     * @param ids         the rows
     * @param onAbandoned frees recovery's place for this chunk when its thread is abandoned
     * @return how many of them this call completed
     * @throws Exception when the database failed
     */
    public long runRecovered(String channel, long[] ids, Runnable onAbandoned) throws Exception {
        WorkerSlot slot = new WorkerSlot(Thread.currentThread(), 0, onAbandoned);
        active.add(slot);
        try {
            long completed = runner.runIds(slot, channel, ids);
            metrics.recovered.add(completed);
            if (completed > 0) {
                metrics.observer.recovered(channel, completed);
            }
            return completed;
        } catch (WorkerSlot.Abandoned e) {
            return 0;
        } catch (Exception e) {
            if (slot.abandoned()) {
                return 0;
            }
            throw e;
        } finally {
            active.remove(slot);
        }
    }

    /**
     * Stops claiming, lets running batches (the workers' and start-up recovery's) finish within the
     * grace period, then releases and aborts the claim transactions of those still running (their
     * tasks are due again at once, not charged) and waits for their threads at most
     * {@link #AFTER_ABORT_WAIT} more.
     */
    public void close() {
        List<Thread> workers;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            workers = loop.stop();
        }
        long deadline = System.nanoTime() + settings.grace().toNanos();
        for (Thread t : workers) {
            joinUntil(t, deadline);
        }
        try {
            active.awaitEmpty(deadline); // start-up recovery's chunks in flight, too
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        abortRemaining();
        // Their transactions are gone with their connections: a thread that ignores the interrupt is
        // not waited for long, so that close() ends soon after the grace (a container's shutdown
        // phase allows the grace and a little more).
        long after = System.nanoTime() + AFTER_ABORT_WAIT.toNanos();
        for (Thread t : workers) {
            joinUntil(t, after);
            if (t.isAlive()) {
                LOG.warn("Worker thread {} did not stop: its handler is still running outside any transaction", t.getName());
            }
        }
        watchdog.close();
        scheduler.shutdownNow();
    }

    private static void joinUntil(Thread t, long deadline) {
        long left = deadline - System.nanoTime();
        if (left > 0 && t != Thread.currentThread()) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (java.sql.SQLException | RuntimeException e) {
            LOG.debug("Closing an aborted connection failed", e);
        }
    }

    /** Releases and aborts the claim transactions still running after the grace period. */
    private void abortRemaining() {
        for (WorkerSlot slot : active) {
            Connection c = slot.connection();
            if (c != null && slot.abandon()) {
                LOG.warn("Aborting a batch still running after the {} grace period; its tasks roll back and are due again",
                        settings.grace());
                bookkeeper.release(slot.xid(), 0, null);
                Watchdog.abort(c);
                slot.thread.interrupt();
            }
        }
    }

    /** A statement of the library's own hangs even cancelled: release the claim, if it has one, and abort. */
    private void stuck(WorkerSlot slot, Connection c) {
        long xid = slot.xid();
        if (xid != 0) {
            bookkeeper.release(xid, 0, null);
        }
        Watchdog.abort(c);
    }

    /** A handler overran its timeout (on the watchdog's follow-up thread): release, abort, replace. */
    private void timedOut(WorkerSlot slot, WorkerSlot.Call call) {
        metrics.timeouts.increment();
        metrics.observer.handlerTimedOut(call.channel(),
                System.nanoTime() - (call.deadline() - TimeUnit.MILLISECONDS.toNanos(call.timeoutMillis())));
        metrics.failed(call.channel());
        active.remove(slot);
        String error = call.timedOutError();
        bookkeeper.release(slot.xid(), call.taskId(), error);
        Connection c = slot.connection();
        if (c != null) {
            Watchdog.abort(c); // the server rolls the transaction back: the batch is pending again
            close(c); // back to its pool, which drops it (broken): the hung thread may never give it back
        }
        slot.thread.interrupt();
        int stuck;
        synchronized (abandoned) {
            abandoned.removeIf(t -> !t.isAlive());
            abandoned.add(slot.thread);
            stuck = abandoned.size();
        }
        try (TaskMdc mdc = new TaskMdc().task(call.taskId(), call.channel(), call.attempt())) {
            LOG.warn("Task {} on channel '{}': {}; thread {} abandoned ({} abandoned thread(s) still alive)", call.taskId(),
                    call.channel(), error, slot.thread.getName(), stuck);
        }
        timer.wakeIn(call.channel(), 0); // its claim charges it, and runs the rest of its batch
        boolean replace = stuck <= settings.maxAbandoned();
        String why = stuck + " handler thread(s) overran their timeout and are still running, more than the "
                + settings.maxAbandoned() + " allowed (maxAbandonedThreads). Fix the handlers that hang (see the "
                + "warnings above) and restart.";
        if (!replace) {
            LOG.error("{} Worker {} is not replaced.", why, slot.workerNumber);
        }
        if (slot.workerNumber > 0) {
            loop.lost(slot, replace, why);
        } else {
            if (slot.onAbandoned != null) {
                slot.onAbandoned.run(); // start-up recovery's place for this chunk is free again
            }
            if (!replace) {
                settings.onGiveUp().accept(new IllegalStateException("start-up recovery cannot go on: " + why));
            }
        }
    }
}
