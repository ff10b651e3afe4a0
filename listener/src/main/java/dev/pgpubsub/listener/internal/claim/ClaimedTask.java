package dev.pgpubsub.listener.internal.claim;

import java.time.Instant;

/**
 * A task whose row the running transaction locked and deleted, with what its handler needs.
 *
 * @param id          the task id
 * @param payload     its JSON, or null when it was too large to load (it is in the dead letters)
 * @param publishedAt when it was published
 * @param attempt     the attempt being made, 1 the first time
 * @param errors      its error history, a JSON array
 * @param dueAtNanos  when it became due, on the {@link System#nanoTime()} scale (measured by the
 *                    database as a lag at the claim's start, so that clock skew does not enter)
 * @param traceContext the publisher's trace propagation headers, a JSON object, or null
 * @param key         its unique key on the channel, or null; kept when it is put back or buried
 * @param priority    its priority, 0 to 100; kept when it is put back or buried
 */
public record ClaimedTask(long id, String payload, Instant publishedAt, int attempt, String errors, long dueAtNanos,
        String traceContext, String key, int priority) {
}
