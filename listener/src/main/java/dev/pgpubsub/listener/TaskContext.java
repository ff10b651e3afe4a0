package dev.pgpubsub.listener;

import java.sql.Connection;
import java.time.Instant;

/**
 * What a handler knows about the task it runs, and the transaction it runs in.
 *
 * <p>The transaction is the one that claimed the task and deletes it: write through
 * {@link #connection()} (or jOOQ's view of it, {@link JooqTasks#dsl(TaskContext)}) and those writes
 * commit exactly when the task is marked done. The connection refuses whatever would end the
 * transaction or reach past it: {@code commit}, {@code rollback()}, {@code close},
 * {@code setAutoCommit}, {@code abort}, {@code setTransactionIsolation}, {@code setReadOnly},
 * {@code setSchema}, {@code setCatalog}, {@code setNetworkTimeout}, {@code unwrap}, and SQL such as
 * {@code COMMIT}, {@code ROLLBACK} or {@code BEGIN}; statements and result sets got from it are
 * guarded the same way. Return to commit, throw to roll back. Savepoints work. A handler that
 * catches an SQL error and returns leaves the transaction aborted, and fails: roll back to a
 * savepoint after such an error instead. Do not keep the context or its connection after the
 * handler returns.
 *
 * <p>While the handler runs, the SLF4J MDC of its thread holds the task: {@code pgpubsub.task.id},
 * {@code pgpubsub.task.channel} and {@code pgpubsub.task.attempt} (as text; in a Logback pattern,
 * {@code %X{pgpubsub.task.id}}). So the handler's own log lines carry them, and so do the
 * listener's lines about the task (its failure, its timeout). Afterwards each of these keys is set
 * back to what it held before; entries the handler puts itself are its own to remove.
 */
public interface TaskContext {

    /**
     * The claiming transaction's connection, at the isolation level its pool gives (Postgres's default: READ COMMITTED).
     *
     * @return the connection; valid only until the handler returns
     */
    Connection connection();

    /**
     * The task's id.
     *
     * @return the id the task was given when published
     */
    long id();

    /**
     * The channel the task was published to.
     *
     * @return the channel name
     */
    String channel();

    /**
     * Which attempt this is: 1 the first time, counting claims that died with their process.
     *
     * @return the attempt number, 1 or more
     */
    int attempt();

    /**
     * When the task was published (the publishing transaction's start time).
     *
     * @return the time the task was published
     */
    Instant publishedAt();
}
