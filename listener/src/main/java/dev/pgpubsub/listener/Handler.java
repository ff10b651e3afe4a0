package dev.pgpubsub.listener;

/**
 * Handles the tasks of one channel, inside the transaction that claims and deletes them.
 *
 * <p>Returning commits the handler's writes made through {@link TaskContext#connection()} (or
 * {@link JooqTasks#dsl(TaskContext)}) together with the deletion of the task: they are committed exactly
 * once. Throwing rolls both back; the task is retried later. Effects outside the database (an
 * e-mail, an HTTP call) may happen more than once: make them idempotent.
 *
 * @param <P> the channel's payload type
 */
@FunctionalInterface
public interface Handler<P extends Record> {

    /**
     * Handles one task.
     *
     * @param payload the task's payload, read from its JSON
     * @param context the task's id, channel and attempt, and the connection of the claiming transaction
     * @throws Exception when the task failed: the transaction rolls back and the task is retried, or
     *                   moves to the dead letters after its last attempt
     */
    void handle(P payload, TaskContext context) throws Exception;
}
