package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.internal.Threads;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers: each takes a channel with work from the {@link WakeQueue} and claims and runs
 * batches of its due rows until it is drained or its turn is over. A worker survives anything its
 * turn throws; one that is lost (its handler overran its timeout and was abandoned) is replaced, and
 * when none is left and none may be replaced, the listener is told to fail.
 */
final class ClaimLoop {

    private static final Logger LOG = LoggerFactory.getLogger(ClaimLoop.class);

    /** Batches one worker claims from a channel before it lets the next channel have a turn. */
    static final int MAX_BATCHES_PER_TURN = 10;

    private final String name;
    private final int batchSize;
    private final WakeQueue queue;
    private final DueTimer timer;
    private final BatchRunner runner;
    private final OutageBackoff outage;
    private final ClaimMetrics metrics;
    private final ActiveSlots active;
    private final Consumer<Throwable> giveUp;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;

    ClaimLoop(String name, int batchSize, WakeQueue queue, DueTimer timer, BatchRunner runner, OutageBackoff outage, ClaimMetrics metrics, ActiveSlots active,
            Consumer<Throwable> giveUp) {
        this.name = name;
        this.batchSize = batchSize;
        this.queue = queue;
        this.timer = timer;
        this.runner = runner;
        this.outage = outage;
        this.metrics = metrics;
        this.active = active;
        this.giveUp = giveUp;
    }

    synchronized void start(int workers) {
        running = true;
        for (int i = 1; i <= workers; i++) {
            startWorker(i);
        }
    }

    boolean running() {
        return running;
    }

    /** Stops taking turns; returns the threads to wait for. */
    synchronized List<Thread> stop() {
        running = false;
        queue.stop(threads.size());
        return List.copyOf(threads);
    }

    synchronized int live() {
        return threads.size();
    }

    private synchronized void startWorker(int number) {
        threads.add(Threads.start(name + "-worker-" + number, () -> work(number)));
    }

    /**
     * A worker's thread was abandoned: start another in its place if {@code replace}, else, if no
     * worker is left, fail the listener.
     */
    void lost(WorkerSlot slot, boolean replace, String why) {
        boolean none;
        synchronized (this) {
            threads.remove(slot.thread);
            if (!running) {
                return;
            }
            if (replace) {
                startWorker(slot.workerNumber);
                return;
            }
            none = threads.isEmpty();
        }
        if (none) {
            giveUp.accept(new IllegalStateException("no worker is left to claim tasks: " + why));
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
            if (running && !slot.abandoned()) {
                // Nothing should end a worker but a stop or an abandonment; if something did, replace it.
                LOG.error("Worker {} ended unexpectedly; starting another", Thread.currentThread().getName());
                lost(slot, true, "");
            }
        }
    }

    /** One turn on a channel: claim and run batches until it is drained or the turn is over. */
    private void serve(WorkerSlot slot, String channel) {
        metrics.turns.increment();
        try {
            boolean drained = false;
            for (int turn = 0; turn < MAX_BATCHES_PER_TURN && running; turn++) {
                int found = runner.runDue(slot, channel, batchSize);
                if (found == batchSize) {
                    queue.wake(channel); // more is due: let an idle worker join in
                }
                if (found > 0) {
                    queue.foundWork(channel);
                } else if (turn == 0) {
                    queue.foundNothing(channel);
                }
                if (found < batchSize) {
                    drained = true;
                    break;
                }
            }
            if (drained && running) {
                long next = runner.nextDue(slot, channel);
                if (next >= 0) {
                    timer.wakeIn(channel, next);
                }
            }
            outage.succeeded(channel);
        } catch (WorkerSlot.Abandoned e) {
            // The watchdog took over this thread's batch; the thread ends.
        } catch (Throwable e) {
            if (slot.abandoned() || !running) {
                return;
            }
            if (e instanceof Error) {
                LOG.error("A turn on channel '{}' failed with an error outside any handler; its batch rolled back", channel, e);
            }
            long retryIn = outage.failed(channel, slot.hadConnection(), e);
            if (retryIn >= 0) {
                timer.wakeIn(channel, retryIn);
            }
        }
    }
}
