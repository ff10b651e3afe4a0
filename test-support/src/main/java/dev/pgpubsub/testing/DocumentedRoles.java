package dev.pgpubsub.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The roles of docs/operations.md ("Least privilege"), set up by running that page's SQL as it is
 * written, but for names: roles are global to the server, so each set gets a suffix of its own, and
 * the database is the test's.
 */
public final class DocumentedRoles implements AutoCloseable {

    /** The password of every role this class creates. */
    public static final String PASSWORD = "roles-test";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Pattern ROLE = Pattern.compile("\\bpgpubsub_(owner|publisher|listener|operator)\\b");

    private final TestDatabase db;
    private final String suffix;
    private final List<String> logins = new ArrayList<>();

    /**
     * The two SQL blocks of the page's section: the roles (as a superuser), then the grants (as the owner).
     *
     * @return the blocks, in the page's order
     * @throws IOException when the page cannot be read
     */
    public static List<String> blocks() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("docs/operations.md"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IOException("docs/operations.md not found in " + Path.of("").toAbsolutePath() + " or above it");
        }
        String page = Files.readString(dir.resolve("docs/operations.md"));
        int from = page.indexOf("\n## Least privilege\n");
        String section = page.substring(from, page.indexOf("\n## ", from + 1));
        Matcher m = Pattern.compile("```sql\n(.*?)```", Pattern.DOTALL).matcher(section);
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    /**
     * Creates the page's roles on {@code db}'s server (as its superuser); the owner has not migrated yet.
     *
     * @param db the test's database
     * @throws Exception when the page cannot be read or its SQL fails
     */
    public DocumentedRoles(TestDatabase db) throws Exception {
        this.db = db;
        this.suffix = "t" + Long.toString(ProcessHandle.current().pid(), 36) + "_" + COUNTER.incrementAndGet();
        List<String> blocks = blocks();
        db.execute(named(blocks.get(0)));
        db.execute("ALTER ROLE " + role("owner") + " PASSWORD '" + PASSWORD + "'");
    }

    /**
     * The page's name {@code pgpubsub_<kind>} for this set.
     *
     * @param kind owner, publisher, listener or operator
     * @return the role's name
     */
    public String role(String kind) {
        return "pgpubsub_" + kind + "_" + suffix;
    }

    /**
     * Runs the page's grants as the owner (after it migrated).
     *
     * @throws Exception when the page cannot be read or its SQL fails
     */
    public void grant() throws Exception {
        try (Connection c = connect(role("owner")); Statement s = c.createStatement()) {
            s.execute(named(blocks().get(1)));
        }
    }

    /**
     * A login role that is a member of the page's role {@code kind}, as an application's would be.
     *
     * @param kind owner, publisher, listener or operator
     * @return the login's name
     * @throws SQLException when it cannot be created
     */
    public String login(String kind) throws SQLException {
        String login = "shop_" + kind + "_" + suffix;
        db.execute("CREATE ROLE " + login + " LOGIN PASSWORD '" + PASSWORD + "' IN ROLE " + role(kind));
        logins.add(login);
        return login;
    }

    /**
     * A login role with no rights but USAGE on the schema: it may look up the schema's objects.
     *
     * @return the login's name
     * @throws SQLException when it cannot be created
     */
    public String bare() throws SQLException {
        String login = "shop_bare_" + suffix;
        db.execute("CREATE ROLE " + login + " LOGIN PASSWORD '" + PASSWORD + "'");
        db.execute("GRANT USAGE ON SCHEMA pgpubsub TO " + login);
        logins.add(login);
        return login;
    }

    /**
     * A connection as {@code login}.
     *
     * @param login a role this class created
     * @return the connection
     * @throws SQLException when it cannot connect
     */
    public Connection connect(String login) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", login);
        props.setProperty("password", PASSWORD);
        return DriverManager.getConnection(db.jdbcUrl(), props);
    }

    /**
     * A DataSource of connections as {@code login}.
     *
     * @param login a role this class created
     * @return the DataSource
     */
    public DataSource dataSource(String login) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(db.jdbcUrl());
        ds.setUser(login);
        ds.setPassword(PASSWORD);
        return ds;
    }

    private String named(String sql) {
        return ROLE.matcher(sql).replaceAll("pgpubsub_$1_" + suffix)
                .replace("ON DATABASE shop ", "ON DATABASE \"" + db.name() + "\" ");
    }

    /** Drops the roles, and with the owner everything it owns in the test's database. */
    @Override
    public void close() throws SQLException {
        List<String> all = new ArrayList<>(logins);
        for (String kind : List.of("publisher", "listener", "operator", "owner")) {
            all.add(role(kind));
        }
        for (String role : all) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }
}
