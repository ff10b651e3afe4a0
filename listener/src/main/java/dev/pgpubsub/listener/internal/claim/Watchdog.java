package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.internal.Threads;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds every wait of a thread that claims and runs tasks. A handler call past its timeout is
 * handed to {@code onTimeout} (which releases its claim, aborts its connection and replaces the
 * thread). A statement of the library's own past the statement timeout is cancelled, and if that
 * does not end it within as long again (a half-open connection hears nothing), it is handed to
 * {@code onStuck} (which releases the claim and aborts the connection, failing the statement on
 * the worker's thread).
 *
 * <p>The sweep only looks; whatever needs the network runs on a small executor of its own, so that a
 * dead server cannot stall the sweep.
 */
final class Watchdog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
    /** Follow-ups waiting at most; past this, new ones are dropped with a warning (the next sweep retries). */
    private static final int MAX_PENDING = 1_000;

    private final ActiveSlots active;
    private final BiConsumer<WorkerSlot, WorkerSlot.Call> onTimeout;
    private final BiConsumer<WorkerSlot, Connection> onStuck;
    private final ScheduledExecutorService sweeper;
    private final ExecutorService followUps;

    Watchdog(String name, ActiveSlots active, long sweepMillis, BiConsumer<WorkerSlot, WorkerSlot.Call> onTimeout,
            BiConsumer<WorkerSlot, Connection> onStuck) {
        this.active = active;
        this.onTimeout = onTimeout;
        this.onStuck = onStuck;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Threads.factory(name + "-watchdog", false));
        // Four threads, not one that only grows when the queue is full: one slow action (a note to a
        // dead server) must not hold up the cancels and aborts behind it.
        ThreadPoolExecutor actions = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(MAX_PENDING), Threads.factory(name + "-watchdog-action", true));
        actions.allowCoreThreadTimeOut(true);
        this.followUps = actions;
        sweeper.scheduleWithFixedDelay(this::sweep, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        long now = System.nanoTime();
        for (WorkerSlot slot : active) {
            try {
                WorkerSlot.Call call = slot.call();
                if (call != null && now - call.deadline() > 0 && slot.timeOut(call)) {
                    later(() -> onTimeout.accept(slot, call));
                }
                WorkerSlot.Library library = slot.library();
                if (library != null && now - library.deadline() > 0 && !slot.abandoned()) {
                    overdue(slot, library, now);
                }
            } catch (RuntimeException e) {
                LOG.error("The watchdog's sweep failed on a worker", e);
            }
        }
    }

    /** A library statement (or commit) overran: cancel it first; abort the connection if that did not help. */
    private void overdue(WorkerSlot slot, WorkerSlot.Library library, long now) {
        Connection c = slot.connection();
        if (library.stage() == 0 && library.statement() != null) {
            if (slot.advance(library, 1)) {
                later(() -> {
                    try {
                        library.statement().cancel();
                    } catch (SQLException | RuntimeException e) {
                        LOG.debug("Cancelling an overdue statement failed", e);
                    }
                });
            }
            return;
        }
        boolean hopeless = library.statement() == null
                || now - library.deadline() > Math.max(library.timeout(), TimeUnit.SECONDS.toNanos(1));
        if (library.stage() < 2 && hopeless && c != null && slot.advance(library, 2)) {
            LOG.warn("A statement of the library's own on {} did not end in time, even cancelled; aborting its connection",
                    slot.thread.getName());
            later(() -> onStuck.accept(slot, c));
        }
    }

    /** Runs {@code action} on the follow-up executor, or here when that is full or stopped. */
    void later(Runnable action) {
        try {
            followUps.execute(action);
        } catch (RejectedExecutionException e) {
            LOG.warn("The watchdog's actions are backed up (more than {} waiting); running one in its sweep", MAX_PENDING);
            action.run();
        }
    }

    static void abort(Connection c) {
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Abort failed", e);
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        followUps.shutdown();
        try {
            if (!followUps.awaitTermination(5, TimeUnit.SECONDS)) {
                followUps.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            followUps.shutdownNow();
        }
    }
}
