package dev.pgpubsub.listener.internal.guard;

import com.impossibl.postgres.jdbc.PGDirectConnection;
import com.impossibl.postgres.protocol.TransactionStatus;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.core.BaseConnection;

/**
 * The transaction state the server reported with its last ReadyForQuery, as the driver keeps it:
 * read without a round trip, for the standard driver and for pgjdbc-ng.
 */
public enum TransactionState {
    /** No transaction is open: it was committed or rolled back. */
    IDLE,
    /** A transaction is open and usable. */
    OPEN,
    /** A transaction is open but aborted by an error: it can only roll back. */
    FAILED;

    /** Reads the state of one driver's connections. */
    @FunctionalInterface
    public interface Probe {
        /**
         * The state now.
         *
         * @return the state the driver last heard of
         * @throws SQLException when the connection is closed
         */
        TransactionState read() throws SQLException;
    }

    /**
     * A probe for {@code c} (a pooled connection is unwrapped to the driver's), or null when its
     * driver is neither of the two known ones.
     *
     * @param c a connection of the standard driver or pgjdbc-ng, possibly wrapped by a pool
     * @return the probe, or null
     * @throws SQLException when unwrapping fails
     */
    public static Probe probe(Connection c) throws SQLException {
        if (c.isWrapperFor(BaseConnection.class)) {
            BaseConnection pg = c.unwrap(BaseConnection.class);
            return () -> switch (pg.getTransactionState()) {
                case IDLE -> IDLE;
                case OPEN -> OPEN;
                case FAILED -> FAILED;
            };
        }
        if (c.isWrapperFor(PGDirectConnection.class)) {
            PGDirectConnection ng = c.unwrap(PGDirectConnection.class);
            return () -> {
                TransactionStatus status = ng.getTransactionStatus();
                return status == TransactionStatus.Idle ? IDLE : status == TransactionStatus.Failed ? FAILED : OPEN;
            };
        }
        return null;
    }
}
