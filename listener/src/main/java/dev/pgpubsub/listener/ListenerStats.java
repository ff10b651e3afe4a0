package dev.pgpubsub.listener;

import java.time.Instant;

/**
 * Counters of a listener since it started, and its connection state, for monitoring and tests.
 *
 * @param wakeUps     notifications received on the LISTEN connection
 * @param turns       times a worker took a channel and claimed from it (wake-ups coalesce into these)
 * @param batches     claim transactions that found rows
 * @param tasksDone   tasks whose handler returned and whose deletion committed
 * @param tasksFailed handler failures recorded (each is retried later)
 * @param recoveredTasks tasks completed by start-up recovery (also counted in {@code tasksDone})
 * @param handlerTimeouts handler calls aborted for overrunning their timeout (also counted in {@code tasksFailed})
 * @param deadLettered tasks this listener moved to the dead letters
 * @param abandonedThreads threads of timed-out handlers that are still running (Java cannot stop them)
 * @param recovering  whether start-up recovery is still draining the backlog
 * @param listening   whether the LISTEN connection is up, LISTENing to the channels; false before the
 *                    start, after the close, while it reconnects, and always for a poll-only listener
 * @param outageSince while the listener is in an outage, when it began: the LISTEN connection was lost
 *                    and is not back yet, or claims have failed (the database is down, refuses
 *                    connections, or a statement overran) with no claim succeeding since; null while
 *                    the database answers, and before the start and after the close. An outage longer
 *                    than the outage limit stops the listener ({@link Listener#failure()}).
 * @param liveWorkers workers running now: as many as configured, fewer while a worker whose handler
 *                    timed out is not replaced ({@link ListenerBuilder#maxAbandonedThreads}); 0 before
 *                    the start, during start-up recovery and after the close
 * @param reconnects  times the LISTEN connection was lost and restored
 */
public record ListenerStats(long wakeUps, long turns, long batches, long tasksDone, long tasksFailed,
        long recoveredTasks, long handlerTimeouts, long deadLettered, long abandonedThreads, boolean recovering,
        boolean listening, Instant outageSince, int liveWorkers, long reconnects) {
}
