package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.ClaimTransactions;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The default {@link ClaimTransactions}: a connection from a {@link DataSource} per transaction. It sets
 * nothing on the session (no isolation, no timeout) beyond autocommit, which drivers keep on the
 * client, so that a pooler in transaction mode hands no setting of ours to another client.
 */
public final class DataSourceTransactions implements ClaimTransactions {

    private final DataSource dataSource;

    /**
     * Transactions on connections of {@code dataSource}.
     *
     * @param dataSource where connections come from
     */
    public DataSourceTransactions(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public <T> T inTransaction(Work<T> work) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            if (autoCommit) {
                c.setAutoCommit(false);
            }
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (Throwable t) {
                rollback(c, t);
                throw t;
            } finally {
                if (autoCommit) {
                    restore(c);
                }
            }
        }
    }

    private static void rollback(Connection c, Throwable cause) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    private static void restore(Connection c) {
        try {
            if (!c.isClosed()) {
                c.setAutoCommit(true);
            }
        } catch (SQLException | RuntimeException e) {
            // the pool drops a broken connection
        }
    }
}
