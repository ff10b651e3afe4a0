package dev.pgpubsub.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running Postgres server that tests may create databases on.
 *
 * <p>Each test class gets a database of its own, not just a schema: NOTIFY is delivered per
 * database, so tests that shared one would wake each other.
 */
public interface PostgresServer extends AutoCloseable {

    /** Host name tests connect to. */
    String host();

    /** Port tests connect to. */
    int port();

    /** A superuser (or a role allowed to create databases). */
    String user();

    /** The password of {@link #user()}; empty where the server trusts local connections. */
    String password();

    /** The database used for administration (creating and dropping test databases). */
    String adminDatabase();

    /**
     * Creates a fresh, empty database whose name starts with a sanitized form of {@code hint}.
     * Closing the returned handle drops it.
     */
    default TestDatabase createDatabase(String hint) {
        String name = DatabaseNames.next(hint);
        try (Connection c = connect(adminDatabase()); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE \"" + name + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create test database " + name + " on "
                    + host() + ":" + port() + ": " + e.getMessage(), e);
        }
        return new TestDatabase(this, name);
    }

    /** Drops a database, disconnecting whoever is still connected to it. */
    default void dropDatabase(String name) {
        try (Connection c = connect(adminDatabase()); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not drop test database " + name + ": " + e.getMessage(), e);
        }
    }

    /** A JDBC URL for the standard driver, without credentials. */
    default String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    /** Opens a connection with the standard driver. */
    default Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user());
        if (!password().isEmpty()) {
            props.setProperty("password", password());
        }
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Stops the server (where this process started it) and releases its resources. */
    @Override
    void close();

    /** Test database names: unique within the server, at most 63 bytes, safe without quoting. */
    final class DatabaseNames {
        private static final AtomicInteger COUNTER = new AtomicInteger();
        private static final String RUN = Long.toString(ProcessHandle.current().pid(), 36);

        private DatabaseNames() {
        }

        static String next(String hint) {
            String cleaned = hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
            String suffix = "_" + RUN + "_" + COUNTER.incrementAndGet();
            int room = 63 - "t_".length() - suffix.length();
            if (cleaned.length() > room) {
                cleaned = cleaned.substring(cleaned.length() - room);
            }
            return "t_" + cleaned + suffix;
        }
    }
}
