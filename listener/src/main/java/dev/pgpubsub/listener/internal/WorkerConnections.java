package dev.pgpubsub.listener.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.PgPubSubException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Where workers get their connections: the application's {@link DataSource}, or a HikariCP pool
 * built from the listener's URL and closed with it.
 */
public final class WorkerConnections implements AutoCloseable {

    private final DataSource dataSource;
    private final HikariDataSource ownPool;

    private WorkerConnections(DataSource dataSource, HikariDataSource ownPool) {
        this.dataSource = dataSource;
        this.ownPool = ownPool;
    }

    /**
     * Uses {@code given}, or builds a pool of {@code workers + 1} connections from the URL, each
     * opened with {@code statementTimeout}.
     */
    public static WorkerConnections open(DataSource given, String jdbcUrl, String user, String password, int workers,
            String name, Duration statementTimeout) {
        if (given != null) {
            return new WorkerConnections(given, null);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        if (user != null) {
            config.setUsername(user);
        }
        if (password != null) {
            config.setPassword(password);
        }
        config.setPoolName(name + "-workers");
        config.setMaximumPoolSize(workers + 1);
        config.setMinimumIdle(1);
        config.setAutoCommit(false);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setConnectionTimeout(10_000);
        // The library's own statements never hang on a lock for ever; handlers get their own bound
        // (the handler timeout) inside each claiming transaction.
        config.setConnectionInitSql("SET statement_timeout = " + statementTimeout.toMillis());
        // ...committed by the pool (without this, with autocommit off, it would stay an open transaction).
        config.setIsolateInternalQueries(true);
        // Fail at start, with the driver's reason, rather than on the first claim.
        config.setInitializationFailTimeout(1);
        // Named so that operators (and the fault tests) can find the listener's sessions.
        config.addDataSourceProperty(jdbcUrl.startsWith("jdbc:pgsql:") ? "application.name" : "ApplicationName",
                name + "-worker");
        try {
            HikariDataSource pool = new HikariDataSource(config);
            return new WorkerConnections(pool, pool);
        } catch (RuntimeException e) {
            throw new PgPubSubException("Could not connect to " + DatabaseAddress.redact(jdbcUrl) + ": " + rootMessage(e)
                    + ". Check the JDBC URL, user and password, and that the database is reachable.", e);
        }
    }

    /**
     * Checks that the pool can serve {@code workers} connections plus one for start-up recovery, and
     * that pgpubsub is installed in {@code schema}; throws saying what to change when not.
     */
    public void check(int workers, String schema) throws SQLException {
        int needed = workers + 1;
        if (dataSource instanceof HikariDataSource hikari && hikari != ownPool) {
            if (hikari.getMaximumPoolSize() < needed) {
                throw new PgPubSubException("The DataSource is a pool of at most " + hikari.getMaximumPoolSize()
                        + " connections, but the listener needs " + needed + " (" + workers + " workers + 1 for start-up "
                        + "recovery). Raise its maximumPoolSize to at least " + needed + " plus what the application uses, "
                        + "or lower workers.");
            }
        } else if (ownPool == null) {
            // Any other DataSource: prove it by holding that many connections at once.
            List<Connection> held = new ArrayList<>(needed);
            try {
                for (int i = 0; i < needed; i++) {
                    held.add(dataSource.getConnection());
                }
            } catch (SQLException e) {
                throw new PgPubSubException("The DataSource served only " + held.size() + " connections at once, but the "
                        + "listener needs " + needed + " (" + workers + " workers + 1 for start-up recovery): "
                        + e.getMessage() + ". Let it serve at least " + needed + ", or lower workers.", e);
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, schema + ".notification");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new PgPubSubException("pgpubsub is not installed in schema '" + schema + "' of this database: run "
                            + "PgPubSub.migrate(dataSource" + (schema.equals(PgPubSub.DEFAULT_SCHEMA) ? "" : ", \"" + schema + "\"")
                            + ") first, or point the listener at the right database and schema.");
                }
            }
            if (!c.getAutoCommit()) {
                c.rollback();
            }
        }
    }

    /** The message of the innermost cause: what the driver or server said. */
    public static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    /** Whether the pool is the listener's own (its connections come with the statement timeout set). */
    public boolean ownPool() {
        return ownPool != null;
    }

    /** The workers' connections. */
    public DataSource dataSource() {
        return dataSource;
    }

    /** Closes the pool if the listener built it. */
    @Override
    public void close() {
        if (ownPool != null) {
            ownPool.close();
        }
    }
}
