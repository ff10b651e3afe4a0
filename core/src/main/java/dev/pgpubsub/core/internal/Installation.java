package dev.pgpubsub.core.internal;

import dev.pgpubsub.core.PgPubSubException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * An installation of pgpubsub as the per-call views of it ({@code Tasks}, {@code DeadLetters}) use
 * it: a DataSource and a checked schema name. Each call runs in a transaction of its own, and a
 * {@link SQLException} comes out as a {@link PgPubSubException} that names the action, the schema
 * and what to check.
 */
public final class Installation {

    /** Work done in one transaction on one connection. */
    @FunctionalInterface
    public interface Work<T> {
        /**
         * Does the work; the caller commits, or rolls back when this throws.
         *
         * @param c the connection, autocommit off
         * @return the result
         * @throws SQLException when a statement fails
         */
        T run(Connection c) throws SQLException;
    }

    private final DataSource dataSource;
    private final String schema;
    private final Duration statementTimeout;

    /**
     * Checks the arguments once, for every later call.
     *
     * @param dataSource the database pgpubsub is installed in
     * @param schema     the schema of the installation
     * @throws IllegalArgumentException when {@code dataSource} is null or the schema name is not valid
     */
    public Installation(DataSource dataSource, String schema) {
        if (dataSource == null) {
            throw new IllegalArgumentException("dataSource is null: pass the DataSource of the database pgpubsub is installed in");
        }
        this.dataSource = dataSource;
        this.schema = Names.requireSchema(schema);
        this.statementTimeout = null;
    }

    private Installation(Installation of, Duration statementTimeout) {
        this.dataSource = of.dataSource;
        this.schema = of.schema;
        this.statementTimeout = statementTimeout;
    }

    /**
     * The same installation, whose transactions stop any statement after {@code timeout}: set with
     * {@code SET LOCAL} at the start of each, so it holds behind PgBouncer in transaction mode and
     * never stays on a pooled connection.
     *
     * @param timeout at least 1 ms
     * @return a new view; this one is unchanged
     * @throws IllegalArgumentException when {@code timeout} is null, zero or negative
     */
    public Installation withStatementTimeout(Duration timeout) {
        if (timeout == null || timeout.toMillis() < 1) {
            throw new IllegalArgumentException("statement timeout is " + timeout + "; pass at least 1 ms, e.g. "
                    + "Duration.ofSeconds(30)");
        }
        return new Installation(this, timeout);
    }

    /** @return the schema of the installation, checked */
    public String schema() {
        return schema;
    }

    /**
     * Runs {@code work} in a transaction of its own: commits when it returns, rolls back when it
     * throws, and gives the connection back with its autocommit as it was.
     *
     * @param action what the work does, for the message of a failure, e.g. "purge dead letters"
     * @param advice what to check when it fails, a sentence
     * @param work   the work
     * @param <T>    its result's type
     * @return its result
     * @throws PgPubSubException when the database fails: "Could not {action} in schema '...': {the
     *                           database's message} (SQLSTATE ...). {advice}"
     */
    public <T> T inTransaction(String action, String advice, Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                if (statementTimeout != null) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
                        ps.setString(1, statementTimeout.toMillis() + "ms");
                        ps.executeQuery().close();
                    }
                }
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new PgPubSubException("Could not " + action + " in schema '" + schema + "': " + e.getMessage()
                    + " (SQLSTATE " + e.getSQLState() + "). " + advice, e);
        }
    }
}
