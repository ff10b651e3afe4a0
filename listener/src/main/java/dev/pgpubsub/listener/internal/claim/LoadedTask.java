package dev.pgpubsub.listener.internal.claim;

import java.time.Instant;

/**
 * A task locked and deleted by the running transaction, with its payload.
 *
 * @param id          the task id
 * @param payload     its JSON
 * @param publishedAt when it was published
 */
public record LoadedTask(long id, String payload, Instant publishedAt) {
}
