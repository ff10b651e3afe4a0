package dev.pgpubsub.listener.internal.claim;

import java.time.Instant;

/**
 * A task this worker has counted an attempt for and is about to run.
 *
 * @param id      the task id
 * @param dueAt   its run_at before the claim (the claim order is dueAt, id)
 * @param attempt the attempt being made, 1 the first time
 */
public record ClaimedTask(long id, Instant dueAt, int attempt) {
}
