package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.TaskContext;
import java.sql.Connection;
import java.time.Instant;
import org.jooq.DSLContext;

/** The {@link TaskContext} of one task in a batch; the connection and DSLContext are the batch's. */
record RunningTask(long id, String channel, int attempt, Instant publishedAt, Connection connection,
        TransactionView view) implements TaskContext {

    @Override
    public DSLContext dsl() {
        return view.dsl();
    }
}
