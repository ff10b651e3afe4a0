package dev.pgpubsub.listener.internal.claim;

import java.sql.Connection;

/**
 * Where a claim's transaction comes from: the seam an integration replaces to own it (a Spring
 * transaction, so that repositories join it) without touching the claim logic. Each call is a new
 * transaction on a connection of its own, even while another is open on the same thread.
 */
public interface RunTransaction {

    /**
     * Work inside one transaction.
     *
     * @param <T> what it returns
     */
    @FunctionalInterface
    interface Work<T> {
        /**
         * Runs with the transaction open on {@code c}: autocommit off, isolation as the connection comes.
         *
         * @param c the transaction's connection; do not commit, roll back or close it
         * @return the result
         * @throws Exception to roll the transaction back
         */
        T run(Connection c) throws Exception;
    }

    /**
     * Runs {@code work} in a new transaction: commits when it returns, rolls back when it throws
     * (and rethrows), and gives the connection back either way.
     *
     * @param work the work
     * @param <T>  what it returns
     * @return what the work returned, once committed
     * @throws Exception what the work threw, or why the transaction could not begin or commit
     */
    <T> T inTransaction(Work<T> work) throws Exception;

    /**
     * Called after each handler returned normally, on its thread, inside the claim transaction:
     * flushes what the handler left pending and tells whether the transaction can still commit.
     *
     * @return null when it can; else why not, which fails the task
     * @throws Exception when flushing fails, which fails the task
     */
    default String afterHandler() throws Exception {
        return null;
    }
}
