package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.TaskContext;
import java.sql.Connection;
import java.time.Instant;

/** The {@link TaskContext} of one task in a batch; the (guarded) connection is the batch's. */
record RunningTask(long id, String channel, int attempt, Instant publishedAt, Connection connection)
        implements TaskContext {
}
