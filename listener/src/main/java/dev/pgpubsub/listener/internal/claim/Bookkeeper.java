package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.ClaimTransactions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what a claim transaction cannot write itself, in short transactions of their own: that
 * it is about to be rolled back on purpose (and which task failed in it). One at a time, so that it needs at most one connection
 * beside the workers'; each bounded by a network timeout, so that it cannot hang.
 */
final class Bookkeeper {

    private static final Logger LOG = LoggerFactory.getLogger(Bookkeeper.class);

    private final ClaimTransactions transactions;
    private final ClaimStatements statements;
    private final int timeoutMillis;
    private final Semaphore one = new Semaphore(1);

    Bookkeeper(ClaimTransactions transactions, ClaimStatements statements, Duration timeout) {
        this.transactions = transactions;
        this.statements = statements;
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    }

    /**
     * Says that claim {@code xid} is about to be rolled back on purpose, before it is: the rows it
     * holds are then not charged, but for {@code failedTask}. Returns whether it was written; if not
     * (the database is unreachable), the rows are charged as attempts that never finished.
     */
    boolean release(long xid, long failedTask, String error) {
        if (xid == 0) {
            return false;
        }
        try {
            run(c -> {
                statements.release(c, ClaimStatements.Watch.NONE, xid, failedTask, error);
                return null;
            });
            return true;
        } catch (Exception e) {
            LOG.warn("Could not note that claim {} is released ({}); its tasks will be charged an attempt", xid, e.toString());
            LOG.debug("Release failed", e);
            return false;
        }
    }

    /** Whether claim {@code xid} committed, aborted, or is in progress; null when too old to tell. */
    String status(long xid) throws Exception {
        return run(c -> statements.status(c, ClaimStatements.Watch.NONE, xid));
    }

    /** Puts deleted tasks back as they were. */
    void restore(String channel, List<ClaimedTask> tasks) throws Exception {
        run(c -> {
            statements.restore(c, ClaimStatements.Watch.NONE, channel, tasks);
            return null;
        });
    }

    private <T> T run(ClaimTransactions.Work<T> work) throws Exception {
        if (!one.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new SQLException("Bookkeeping is busy for longer than " + timeoutMillis + " ms", "57014");
        }
        try {
            return transactions.inTransaction(c -> {
                int previous = c.getNetworkTimeout();
                c.setNetworkTimeout(Runnable::run, timeoutMillis);
                try {
                    return work.run(c);
                } finally {
                    reset(c, previous);
                }
            });
        } finally {
            one.release();
        }
    }

    private static void reset(Connection c, int previous) {
        try {
            if (!c.isClosed()) {
                c.setNetworkTimeout(Runnable::run, previous);
            }
        } catch (SQLException | RuntimeException e) {
            // a broken connection: its pool drops it
        }
    }
}
