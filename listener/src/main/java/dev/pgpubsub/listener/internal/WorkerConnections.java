package dev.pgpubsub.listener.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.NotInstalledException;
import dev.pgpubsub.core.internal.Secrets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
     * The connections a listener needs beside its LISTEN connection: one per worker, one for start-up
     * recovery's cursor, one for bookkeeping (noting a claim released on purpose), and one for the
     * timer thread that publishes the schedules' slots, when there are schedules.
     *
     * @param workers   the listener's workers
     * @param schedules whether the listener has schedules
     * @return how many connections its pool must serve at once
     */
    public static int needed(int workers, boolean schedules) {
        return workers + 2 + (schedules ? 1 : 0);
    }

    /** What {@link #needed} counts, for messages: "4 workers, 1 for start-up recovery and 1 for bookkeeping". */
    private static String parts(int workers, boolean schedules) {
        return workers + " workers, 1 for start-up recovery" + (schedules ? ", 1 for bookkeeping and 1 for the schedules"
                : " and 1 for bookkeeping");
    }

    /**
     * Connections the listener's own pool has beyond {@link #needed}: one the heartbeat borrows for a
     * moment each interval, so that it never waits for a worker's connection nor makes one wait. An
     * application's DataSource is not required to have it (the heartbeat then shares its spare ones).
     */
    static final int HEARTBEAT_CONNECTIONS = 1;

    /**
     * Uses {@code given}, or builds a pool of {@link #needed} connections (and one for the heartbeat,
     * {@code HEARTBEAT_CONNECTIONS}) from the URL. Nothing is set
     * on their sessions: behind a pooler in transaction mode, a session setting would reach another
     * client.
     */
    public static WorkerConnections open(DataSource given, String jdbcUrl, String user, String password, int workers,
            boolean schedules, String name) {
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
        config.setMaximumPoolSize(needed(workers, schedules) + HEARTBEAT_CONNECTIONS);
        config.setMinimumIdle(1);
        // Kept by the driver on the client: no statement is sent for it.
        config.setAutoCommit(false);
        config.setConnectionTimeout(10_000);
        // Fail at start, with the driver's reason, rather than on the first claim.
        config.setInitializationFailTimeout(1);
        boolean ng = jdbcUrl.startsWith("jdbc:pgsql:");
        // Named so that operators (and the fault tests) can find the listener's sessions and their
        // process. A startup parameter, sent when the connection opens.
        config.addDataSourceProperty(ng ? "application.name" : "ApplicationName", SessionNames.of(name, "worker"));
        if (!ng) {
            // A peer that vanished is noticed by the operating system, too (the watchdog bounds each wait).
            config.addDataSourceProperty("tcpKeepAlive", "true");
        }
        try {
            HikariDataSource pool = new HikariDataSource(config);
            return new WorkerConnections(pool, pool);
        } catch (RuntimeException e) {
            throw new PgPubSubException("Could not connect to " + Secrets.redact(jdbcUrl) + ": " + rootMessage(e)
                    + ". Check the JDBC URL, user and password, and that the database is reachable.", e);
        }
    }

    /**
     * Checks that the pool can serve {@link #needed} connections, that pgpubsub is installed in
     * {@code schema}, and that transactions run at READ COMMITTED; throws saying what to change when not.
     */
    public void check(int workers, boolean schedules, String schema) throws SQLException {
        int needed = needed(workers, schedules);
        if (dataSource instanceof HikariDataSource hikari && hikari != ownPool) {
            if (hikari.getMaximumPoolSize() < needed) {
                throw new PgPubSubException("The DataSource is a pool of at most " + hikari.getMaximumPoolSize()
                        + " connections, but the listener needs " + needed + " (" + parts(workers, schedules)
                        + "). Raise its maximumPoolSize to at least " + needed + " plus what the application uses, "
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
                        + "listener needs " + needed + " (" + parts(workers, schedules) + "): "
                        + e.getMessage() + ". Let it serve at least " + needed + ", or lower workers.", e);
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
        }
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // as claims run
            try {
                requireInstalled(c, schema);
                requireReadCommitted(c);
            } finally {
                c.rollback();
                c.setAutoCommit(autoCommit);
            }
        }
    }

    private static void requireInstalled(Connection c, String schema) throws SQLException {
        // The newest object the listener uses (version 10's heartbeat table) tells an installation older
        // than this listener.
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL, to_regclass(?) IS NOT NULL")) {
            ps.setString(1, schema + ".notification");
            ps.setString(2, schema + ".listener_heartbeat");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new NotInstalledException(schema);
                }
                if (!rs.getBoolean(2)) {
                    throw new PgPubSubException("pgpubsub in schema '" + schema + "' is older than this listener (it "
                            + "has no listener_heartbeat table, which schema version 10 adds): "
                            + Names.migrateHint(schema) + " to bring it up to date; publishers of the older version "
                            + "keep working.");
                }
            }
        }
    }

    /**
     * Claims judge an earlier claim's note with a snapshot taken after they lock the row, which only
     * READ COMMITTED gives; a stricter level would also fail their SKIP LOCKED scans under load.
     */
    private static void requireReadCommitted(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('transaction_isolation')");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            String level = rs.getString(1);
            if (!"read committed".equals(level)) {
                throw new PgPubSubException("The worker connections run their transactions at isolation level '" + level
                        + "', but claims need 'read committed'. Set the pool's transaction isolation to "
                        + "TRANSACTION_READ_COMMITTED (or give the listener's role default_transaction_isolation = "
                        + "'read committed').");
            }
        }
    }

    /** The message of the innermost cause: what the driver or server said (a URL in it without its password). */
    public static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return Secrets.redact(root.getMessage());
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
