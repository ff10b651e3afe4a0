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

    /**
     * Host name tests connect to.
     *
     * @return the host name or address of the server
     */
    String host();

    /**
     * Port tests connect to.
     *
     * @return the TCP port the server accepts connections on
     */
    int port();

    /**
     * A superuser (or a role allowed to create databases).
     *
     * @return the name of that role
     */
    String user();

    /**
     * The password of {@link #user()}; empty where the server trusts local connections.
     *
     * @return the password, never {@code null}
     */
    String password();

    /**
     * The database used for administration (creating and dropping test databases).
     *
     * @return the name of that database
     */
    String adminDatabase();

    /**
     * Creates a fresh, empty database whose name starts with a sanitized form of {@code hint}.
     * Closing the returned handle drops it.
     *
     * @param hint a word that tells the database apart, usually the test class's name; characters
     *             other than letters, digits and underscores become underscores
     * @return the new database
     * @throws IllegalStateException when the database cannot be created
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

    /**
     * Drops a database, disconnecting whoever is still connected to it.
     *
     * @param name the name of the database; a database that does not exist is not an error
     * @throws IllegalStateException when the database cannot be dropped
     */
    default void dropDatabase(String name) {
        try (Connection c = connect(adminDatabase()); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not drop test database " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * A JDBC URL for the standard driver, without credentials.
     *
     * @param database the name of the database to connect to
     * @return {@code jdbc:postgresql://host:port/database}
     */
    default String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    /**
     * Opens a connection with the standard driver.
     *
     * @param database the name of the database to connect to
     * @return a new connection as {@link #user()}, which the caller closes
     * @throws SQLException when the server cannot be reached or refuses the connection
     */
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
