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

    /** Host to connect to. */
    public String host() {
        return server.host();
    }

    /** Port to connect to. */
    public int port() {
        return server.port();
    }

    /** User to connect as. */
    public String user() {
        return server.user();
    }

    /** Password of {@link #user()}; empty where none is needed. */
    public String password() {
        return server.password();
    }

    /** {@code jdbc:postgresql://host:port/name}, for the standard driver; credentials not included. */
    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    /** {@code jdbc:pgsql://host:port/name}, for pgjdbc-ng; credentials not included. */
    public String pgjdbcNgUrl() {
        return "jdbc:pgsql://" + host() + ":" + port() + "/" + name;
    }

    /** A fresh unpooled data source of the standard driver. */
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

    /** Opens a connection (autocommit on) with the standard driver. */
    public Connection connect() throws SQLException {
        return server.connect(name);
    }

    /** Runs {@code sql} on a connection of its own and returns the first column of every row, as text. */
    public List<String> strings(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    /** Runs {@code sql} on a connection of its own and returns the first column of its first row as a number. */
    public long number(String sql) throws SQLException {
        return Long.parseLong(strings(sql).get(0));
    }

    /** Runs {@code sql} (autocommit) on a connection of its own. */
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
