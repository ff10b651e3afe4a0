package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.ListenerObserver;
import java.util.concurrent.atomic.LongAdder;

/**
 * The claim path's counters, added to by whichever thread did the thing, read as a snapshot; and the
 * observer told of the same things, per channel.
 */
public final class ClaimMetrics {

    /** Told of each claim, handler call and commit; {@link ListenerObserver#NONE} for none. */
    final ListenerObserver observer;

    final LongAdder turns = new LongAdder();
    final LongAdder batches = new LongAdder();
    final LongAdder done = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder recovered = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder deadLettered = new LongAdder();

    /**
     * Counters that tell {@code observer} too.
     *
     * @param observer told of what the counters count, per channel
     */
    public ClaimMetrics(ListenerObserver observer) {
        this.observer = observer;
    }

    /** A task's attempt failed. */
    void failed(String channel) {
        failed.increment();
        observer.failed(channel);
    }

    /**
     * The counters now.
     *
     * @param turns         turns taken on a channel
     * @param batches       claim transactions that ran tasks
     * @param done          tasks completed
     * @param failed        handler calls that failed (threw, timed out, or broke their transaction)
     * @param recovered     tasks completed by start-up recovery
     * @param timeouts      handler calls aborted for overrunning their timeout
     * @param deadLettered  tasks moved to the dead letters
     */
    public record Snapshot(long turns, long batches, long done, long failed, long recovered, long timeouts,
            long deadLettered) {
    }

    /**
     * Reads every counter.
     *
     * @return the counters now
     */
    public Snapshot snapshot() {
        return new Snapshot(turns.sum(), batches.sum(), done.sum(), failed.sum(), recovered.sum(), timeouts.sum(),
                deadLettered.sum());
    }
}
