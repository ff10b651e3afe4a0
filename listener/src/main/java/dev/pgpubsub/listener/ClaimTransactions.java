package dev.pgpubsub.listener;

import java.sql.Connection;

/**
 * Where the listener's transactions come from, for an integration that owns them: a container's
 * transaction manager, say, so that the data-access code a handler calls joins the claim
 * transaction and its writes commit exactly once, with the task's deletion. Set it with
 * {@link ListenerBuilder#claimTransactions(ClaimTransactions)}; by default the listener runs its
 * transactions itself, on connections of its {@code DataSource}.
 *
 * <p>The listener runs every transaction of its own through {@link #inTransaction(Work)}: each claim
 * (whose handlers run inside the work, on the same thread) and its short bookkeeping transactions,
 * which may open while a claim is open on the same thread. It calls {@link #afterHandler()} after
 * each handler returned normally, inside the claim, so that the integration can flush what the
 * handler left pending and say whether the transaction is still fit to commit.
 *
 * <p>Implementations must be thread-safe: every worker calls them.
 */
public interface ClaimTransactions {

    /**
     * Work inside one transaction.
     *
     * @param <T> what it returns
     */
    @FunctionalInterface
    interface Work<T> {
        /**
         * Runs with the transaction open on {@code c}.
         *
         * @param c the transaction's connection, autocommit off; do not commit, roll back or close it
         * @return the result
         * @throws Exception to roll the transaction back
         */
        T run(Connection c) throws Exception;
    }

    /**
     * Runs {@code work} in a new transaction, never one that is already open on the calling thread,
     * on a connection that no other open transaction uses: commits when the work returns, rolls back
     * when it throws and rethrows what it threw, unchanged; gives the connection back either way. The
     * transaction must be at the isolation level READ COMMITTED (Postgres's default). When it cannot
     * commit what the work did (the transaction was marked for rollback, say), it must roll back and
     * throw, never return as if it had committed.
     *
     * @param work the work
     * @param <T>  what it returns
     * @return what the work returned, once committed
     * @throws Exception what the work threw, or why the transaction could not begin or commit
     */
    <T> T inTransaction(Work<T> work) throws Exception;

    /**
     * Called after each handler returned normally, on the handler's thread, inside the claim
     * transaction that ran it (the innermost {@link #inTransaction(Work)} open on this thread): flush
     * what the handler left pending, and check that the transaction can still commit. When it cannot
     * (it was marked for rollback, or it is no longer the claim's transaction), the task fails as if
     * its handler had thrown: the claim rolls back, the task is charged an attempt, and the other
     * tasks of its batch run again without being charged. By default nothing is checked here; the
     * listener checks on its own that the handler left the connection's transaction open and not
     * aborted.
     *
     * @return null when the transaction is fit to commit; else why not, for the task's error history
     * @throws Exception when flushing fails; the task fails with it
     */
    default String afterHandler() throws Exception {
        return null;
    }
}
