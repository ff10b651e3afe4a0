package dev.pgpubsub.listener;

/**
 * Counters of a listener since it started, for monitoring and tests.
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
 */
public record ListenerStats(long wakeUps, long turns, long batches, long tasksDone, long tasksFailed,
        long recoveredTasks, long handlerTimeouts, long deadLettered, long abandonedThreads, boolean recovering) {
}
