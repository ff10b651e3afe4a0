package dev.pgpubsub.cli;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.NotInstalledException;
import dev.pgpubsub.core.internal.Secrets;
import dev.pgpubsub.core.internal.SqlStates;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.internal.Backoff;
import dev.pgpubsub.listener.internal.Durations;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;
import picocli.CommandLine.Option;

/** Where the database is, shared by every subcommand. */
final class ConnectionOptions {

    @Option(names = "--jdbc-url", paramLabel = "URL",
            description = "The database: jdbc:postgresql://host:5432/db (env PGPUBSUB_JDBC_URL).")
    String jdbcUrl;

    @Option(names = "--user", description = "Database user (env PGPUBSUB_USER).")
    String user;

    /** The flag whose value other users of the machine see in the process list. */
    static final String PASSWORD_FLAG = "--password";

    @Option(names = PASSWORD_FLAG, description = "Database password (env PGPUBSUB_PASSWORD); other users see a flag in the "
            + "process list: prefer --password-file or the environment.")
    String password;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "A file holding the password; a trailing line break is ignored (env PGPUBSUB_PASSWORD_FILE).")
    Path passwordFile;

    @Option(names = "--schema", defaultValue = PgPubSub.DEFAULT_SCHEMA,
            description = "Schema pgpubsub is installed in (default: ${DEFAULT-VALUE}).")
    String schema;

    @Option(names = "--outage-limit", converter = DurationConverter.class,
            description = "How long the database may stay unreachable (down, starting, stopping, out of connections), "
                    + "at start or later, before the command exits with code 3 (env PGPUBSUB_OUTAGE_LIMIT; default: "
                    + "${DEFAULT-VALUE}).")
    Duration outageLimit = Listener.DEFAULT_OUTAGE_LIMIT;

    @Option(names = ConfigSources.CONFIG_FLAG, paramLabel = "FILE",
            description = "A properties file of settings (name=value; env PGPUBSUB_CONFIG). Flags and env win over it.")
    Path config;

    String url() {
        if (jdbcUrl == null || jdbcUrl.isBlank()) {
            throw new ConfigError("No database given: set --jdbc-url (or PGPUBSUB_JDBC_URL), e.g. "
                    + "jdbc:postgresql://localhost:5432/mydb");
        }
        if (!jdbcUrl.startsWith("jdbc:postgresql:") && !jdbcUrl.startsWith("jdbc:pgsql:")) {
            throw new ConfigError("--jdbc-url '" + Secrets.redact(jdbcUrl) + "' is not a Postgres JDBC URL: use e.g. "
                    + "jdbc:postgresql://localhost:5432/mydb");
        }
        return jdbcUrl;
    }

    String password() {
        if (password != null) {
            return password;
        }
        if (passwordFile == null) {
            return null;
        }
        // Only the line break that editors and "echo" add: spaces may belong to the password.
        return SecretFiles.read(passwordFile, "password file", "--password-file");
    }

    /**
     * Connections through the driver the URL names, for migrate, status, publish and dead-letters. A
     * database that is down, starting, stopping or out of connections is tried again with backoff
     * until {@code --outage-limit} is spent, as {@code listen} does; a wrong password or an unknown
     * database fails at once.
     */
    DataSource dataSource() {
        String url = url();
        String secret = password();
        return new DriverManagerDataSource(url, user, secret, outageLimit);
    }

    /**
     * A connection from {@link #dataSource()}, after checking that pgpubsub is installed in the schema.
     *
     * @throws NotInstalledException when it is not
     */
    Connection connectInstalled() throws SQLException {
        Connection c = dataSource().getConnection();
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, Names.requireSchema(schema) + ".notification");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    throw new NotInstalledException(schema);
                }
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** A DataSource over {@link DriverManager}, for the short-lived commands. */
    private record DriverManagerDataSource(String url, String user, String password, Duration outageLimit)
            implements DataSource {

        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConnectionOptions.class);

        @Override
        public Connection getConnection() throws SQLException {
            return getConnection(user, password);
        }

        @Override
        public Connection getConnection(String username, String pass) throws SQLException {
            Properties props = new Properties();
            if (username != null) {
                props.setProperty("user", username);
            }
            if (pass != null) {
                props.setProperty("password", pass);
            }
            long deadline = System.nanoTime() + outageLimit.toNanos();
            for (int attempt = 1;; attempt++) {
                try {
                    return DriverManager.getConnection(url, props);
                } catch (SQLException e) {
                    long left = deadline - System.nanoTime();
                    if (!SqlStates.isTransient(e) || left <= 0) {
                        throw e;
                    }
                    long wait = Math.min(Backoff.DATABASE.millis(attempt), TimeUnit.NANOSECONDS.toMillis(left) + 1);
                    LOG.warn("Could not connect ({}); trying again in {} ms, for at most {} in all (--outage-limit)",
                            Secrets.redact(e.getMessage()), wait, Durations.describe(outageLimit));
                    try {
                        Thread.sleep(wait); // the backoff between attempts, bounded by the outage limit
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("Not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }
}
