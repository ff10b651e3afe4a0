package dev.pgpubsub.listener;

import java.time.Duration;
import java.util.List;

/**
 * Told what a listener does, for metrics; set with {@link ListenerBuilder#observer(ListenerObserver)}.
 * It depends on no metrics library: {@link dev.pgpubsub.listener.micrometer.PgPubSubMetrics} is one,
 * for Micrometer, and the listener runs without Micrometer on the class path when none is set.
 *
 * <p>Every method has an empty default. The per-task calls come on the worker threads, inside or
 * right after the claim transaction: they must return quickly, allocate nothing they can avoid, and
 * never throw (what one throws is caught and logged, but the batch has paid for it). Without an
 * observer the listener calls {@link #NONE}, whose empty methods the JIT removes.
 *
 * <p>Outcomes are counted once committed: {@link #committed} reports the tasks a claim
 * transaction completed, retried or dead-lettered only after its commit, and {@link #failed} each
 * failed attempt once. But {@link #claimed} and the handler calls ({@link #handlerStarting},
 * {@link #handlerReturned}) report what ran: when a claim rolls back (a batch-mate failed, the
 * listener stopped), its other tasks are claimed and their handlers called again, and reported
 * again.
 */
public interface ListenerObserver {

    /** Observes nothing: the default. */
    ListenerObserver NONE = new ListenerObserver() {
    };

    /**
     * The listener is starting; {@code listener} answers {@link Listener#stats()} from now on (e.g.
     * for gauges of live workers). Called once, on the thread that starts it.
     *
     * @param listener the listener
     */
    default void attached(Listener listener) {
    }

    /**
     * The listener closed; it reports nothing more.
     *
     * @param listener the listener
     */
    default void detached(Listener listener) {
    }

    /**
     * A claim took tasks to run (not counting those it only charged for an earlier attempt).
     *
     * @param channel the channel
     * @param tasks   how many: the batch size claimed, at least 1
     */
    default void claimed(String channel, int tasks) {
    }

    /**
     * A handler is about to be called.
     *
     * @param channel  the channel
     * @param lagNanos how long after its due time (its {@code run_at}, by the database's clock)
     */
    default void handlerStarting(String channel, long lagNanos) {
    }

    /**
     * A handler call returned, or threw.
     *
     * @param channel   the channel
     * @param succeeded whether it returned and left its transaction fit to commit
     * @param nanos     how long it ran
     */
    default void handlerReturned(String channel, boolean succeeded, long nanos) {
    }

    /**
     * A handler call overran its timeout: its transaction was aborted and its thread abandoned.
     * Also reported as a {@link #failed failure}.
     *
     * @param channel the channel
     * @param nanos   how long it had run, about its timeout
     */
    default void handlerTimedOut(String channel, long nanos) {
    }

    /**
     * A task's attempt failed (its handler threw, timed out or broke its transaction); it is retried
     * after its backoff, or goes to the dead letters if that was its last attempt.
     *
     * @param channel the channel
     */
    default void failed(String channel) {
    }

    /**
     * A claim transaction committed.
     *
     * @param channel      the channel
     * @param succeeded    tasks whose handler succeeded and whose deletion committed
     * @param retried      tasks charged for a failed attempt and due again after their backoff
     * @param deadLettered tasks moved to the dead letters (last attempt failed, payload unreadable or
     *                     larger than the listener loads)
     */
    default void committed(String channel, int succeeded, int retried, int deadLettered) {
    }

    /**
     * Start-up recovery completed tasks (also reported by {@link #committed}).
     *
     * @param channel the channel
     * @param tasks   how many
     */
    default void recovered(String channel, long tasks) {
    }

    /**
     * Start-up recovery's progress, as {@link ListenerBuilder#onRecoveryProgress} receives it.
     *
     * @param progress the report
     */
    default void recoveryProgress(RecoveryProgress progress) {
    }

    /** The LISTEN connection was lost and is back. */
    default void reconnected() {
    }

    /**
     * How often the listener should measure its channels' queues for {@link #queueDepths}: one
     * query for all of them, on a thread of its own. Null (the default) for never.
     *
     * @return the interval, or null
     */
    default Duration queueDepthInterval() {
        return null;
    }

    /**
     * The most due tasks the queue query counts per channel: it stops there, and a channel with more
     * is reported as {@link QueueDepth#capped()}. Default 10 000.
     *
     * @return the cap, at least 1
     */
    default int queueDepthCap() {
        return 10_000;
    }

    /**
     * The queues, measured: one entry per channel the listener serves, in its order.
     *
     * @param depths the measurements
     */
    default void queueDepths(List<QueueDepth> depths) {
    }

    /**
     * One channel's queue.
     *
     * @param channel         the channel
     * @param dueTasks        tasks due now (run_at passed), claimed or not, counted up to the cap
     * @param capped          whether the count stopped at the cap (there are at least that many)
     * @param oldestDueMillis how long ago the earliest due task became due, in milliseconds; 0 with none
     */
    record QueueDepth(String channel, long dueTasks, boolean capped, long oldestDueMillis) {
    }
}
