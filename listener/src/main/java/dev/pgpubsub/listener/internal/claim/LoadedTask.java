package dev.pgpubsub.listener.internal.claim;

import java.time.Instant;

/**
 * A task locked and deleted by the running transaction, with its payload.
 *
 * @param id          the task id
 * @param payload     its JSON, or null when it was too large to load (it is in the dead letters)
 * @param publishedAt when it was published
 * @param errors      its error history, a JSON array
 */
public record LoadedTask(long id, String payload, Instant publishedAt, String errors) {
}
