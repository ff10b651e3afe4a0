package dev.pgpubsub.core;

import java.time.Instant;
import java.util.List;

/**
 * A task that will not run again on its own (see {@link DeadLetters}): its last attempt failed, its
 * payload could not be read, or it was too large to load.
 *
 * @param id        the task's id, kept when it is re-queued
 * @param channel   the channel it was published to
 * @param payload   its payload, as JSON text
 * @param createdAt when it was published
 * @param attempts  how many attempts it had
 * @param errors    the failures of its last attempts (at most 10), oldest first
 * @param reason    why it is here, in one line
 * @param deadAt    when it was moved here
 */
public record DeadLetter(long id, String channel, String payload, Instant createdAt, int attempts, List<Failure> errors,
        String reason, Instant deadAt) {

    /**
     * Copies the list.
     *
     * @param id        the task's id, kept when it is re-queued
     * @param channel   the channel it was published to
     * @param payload   its payload, as JSON text
     * @param createdAt when it was published
     * @param attempts  how many attempts it had
     * @param errors    the failures of its last attempts (at most 10), oldest first; copied
     * @param reason    why it is here, in one line
     * @param deadAt    when it was moved here
     */
    public DeadLetter {
        errors = List.copyOf(errors);
    }

    /**
     * One failed attempt.
     *
     * @param attempt which attempt (1 is the first)
     * @param at      when it failed
     * @param error   the error, e.g. the exception and its causes (at most 2,000 characters)
     */
    public record Failure(int attempt, Instant at, String error) {
    }
}
