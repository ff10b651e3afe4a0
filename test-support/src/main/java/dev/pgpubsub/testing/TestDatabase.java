package dev.pgpubsub.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database created for one test class on a {@link PostgresServer}. Closing it drops it.
 *
 * @param server the server the database lives on
 * @param name   the database name (lower case letters, digits and underscores)
 */
public record TestDatabase(PostgresServer server, String name) implements AutoCloseable {

    /**
     * Host to connect to.
     *
     * @return the server's host name or address
     */
    public String host() {
        return server.host();
    }

    /**
     * Port to connect to.
     *
     * @return the server's TCP port
     */
    public int port() {
        return server.port();
    }

    /**
     * User to connect as.
     *
     * @return the name of the role
     */
    public String user() {
        return server.user();
    }

    /**
     * Password of {@link #user()}; empty where none is needed.
     *
     * @return the password, never {@code null}
     */
    public String password() {
        return server.password();
    }

    /**
     * {@code jdbc:postgresql://host:port/name}, for the standard driver; credentials not included.
     *
     * @return the URL of this database for the standard driver
     */
    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    /**
     * {@code jdbc:pgsql://host:port/name}, for pgjdbc-ng; credentials not included.
     *
     * @return the URL of this database for pgjdbc-ng
     */
    public String pgjdbcNgUrl() {
        return "jdbc:pgsql://" + host() + ":" + port() + "/" + name;
    }

    /**
     * A fresh unpooled data source of the standard driver.
     *
     * @return a data source that opens a new connection to this database, with credentials, on every call
     */
    public DataSource dataSource() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {host()});
        ds.setPortNumbers(new int[] {port()});
        ds.setDatabaseName(name);
        ds.setUser(user());
        if (!password().isEmpty()) {
            ds.setPassword(password());
        }
        return ds;
    }

    /**
     * Opens a connection (autocommit on) with the standard driver.
     *
     * @return a new connection, which the caller closes
     * @throws SQLException when the server cannot be reached or refuses the connection
     */
    public Connection connect() throws SQLException {
        return server.connect(name);
    }

    /**
     * Runs {@code sql} on a connection of its own and returns the first column of every row, as text.
     *
     * @param sql a query that returns at least one column
     * @return the first column of each row, in the order of the rows; {@code null} for SQL NULL
     * @throws SQLException when the database cannot be reached or the query fails
     */
    public List<String> strings(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    /**
     * Runs {@code sql} on a connection of its own and returns the first column of its first row as a number.
     *
     * @param sql a query whose first row's first column is an integer
     * @return the value of that column
     * @throws SQLException when the database cannot be reached or the query fails
     */
    public long number(String sql) throws SQLException {
        return Long.parseLong(strings(sql).get(0));
    }

    /**
     * Runs {@code sql} (autocommit) on a connection of its own.
     *
     * @param sql one statement, or several separated by semicolons
     * @throws SQLException when the database cannot be reached or the statement fails
     */
    public void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() {
        server.dropDatabase(name);
    }
}
