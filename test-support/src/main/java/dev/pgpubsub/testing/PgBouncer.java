package dev.pgpubsub.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A PgBouncer run by the test as a child process, in front of a {@link PostgresServer}: it writes
 * {@code pgbouncer.ini} into a directory of the test's, listens on a free port of 127.0.0.1 (no unix
 * socket), and logs to {@code pgbouncer.log} there. Closing it stops the process.
 *
 * <p>Every database of the server is served, and PgBouncer logs in to the server as one
 * {@linkplain Builder#serverUser user} whatever name its clients give ({@code auth_type = any}), so
 * that all clients share one pool per database. The server must trust that user from localhost, as
 * the embedded server does.
 *
 * <p>PgBouncer refuses to run as root: when this JVM runs as root, PgBouncer is started with
 * {@code -u nobody} (see {@link Builder#runAs}). It reads its configuration before it drops to that
 * user; its files are made readable by everyone all the same.
 *
 * <p>Where is the program? See {@link #executable()}: found on the path or in the system folders;
 * when missing and the environment variable {@code CI} is {@code true}, installed with
 * {@code apt-get install pgbouncer} (through {@code sudo} when not root), and a failure to install
 * fails the test; elsewhere the test is skipped with the reason.
 */
public final class PgBouncer implements AutoCloseable {

    /** The environment variable that marks a CI run: PgBouncer is then installed, never skipped. */
    public static final String CI_VARIABLE = "CI";

    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    private static final Duration STOP_WAIT = Duration.ofSeconds(30);
    private static final Duration INSTALL_WAIT = Duration.ofMinutes(10);
    private static final List<String> FOLDERS = List.of("/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin", "/sbin");
    private static final Pattern VERSION = Pattern.compile("PgBouncer (\\d+)\\.(\\d+)(?:\\.(\\d+))?");

    private final Process process;
    private final int port;
    private final Path directory;
    private final String version;

    private PgBouncer(Process process, int port, Path directory, String version) {
        this.process = process;
        this.port = port;
        this.directory = directory;
        this.version = version;
    }

    /**
     * Starts configuring a PgBouncer in front of {@code server}.
     *
     * @param server the Postgres server PgBouncer connects to
     * @return a builder with PgBouncer's defaults but {@code pool_mode = transaction}
     */
    public static Builder inFrontOf(PostgresServer server) {
        return new Builder(server);
    }

    /**
     * The PgBouncer program: found on {@code PATH} or in the usual system folders. When it is missing
     * and {@value #CI_VARIABLE} is {@code true}, it is installed from the Debian package
     * {@code pgbouncer} ({@code apt-get}, through {@code sudo -n} when not root).
     *
     * @return the path of the program
     * @throws org.opentest4j.TestAbortedException when it is missing and this is not a CI run: the test is skipped
     * @throws IllegalStateException when it is missing on a CI run and could not be installed
     */
    public static Path executable() {
        Optional<Path> found = find();
        if (found.isPresent()) {
            return found.get();
        }
        if (!"true".equalsIgnoreCase(System.getenv(CI_VARIABLE))) {
            Assumptions.abort("PgBouncer is not installed (no pgbouncer on the PATH or in " + FOLDERS + "). Install it "
                    + "(Debian: apt-get install pgbouncer) to run this test; with " + CI_VARIABLE + "=true the test installs "
                    + "it, and fails when it cannot.");
        }
        String log = install();
        return find().orElseThrow(() -> new IllegalStateException("PgBouncer is not installed and could not be "
                + "installed (" + CI_VARIABLE + "=true, so the test does not skip). apt-get said:\n" + log));
    }

    /**
     * The version of the PgBouncer program, e.g. {@code 1.18.0}, as {@code pgbouncer --version} says.
     *
     * @param executable the program
     * @return the version
     * @throws IllegalStateException when the program does not say
     */
    public static String version(Path executable) {
        String out = run(List.of(executable.toString(), "--version"), Duration.ofSeconds(30));
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException(executable + " --version did not name a version: " + out);
        }
        return m.group(0).substring("PgBouncer ".length());
    }

    /**
     * This PgBouncer's version, e.g. {@code 1.18.0}.
     *
     * @return the version of the running program
     */
    public String version() {
        return version;
    }

    /**
     * Whether a version can keep the protocol-level prepared statements of each client apart in
     * transaction mode ({@code max_prepared_statements}, PgBouncer 1.21 and later). Before it, the
     * standard driver must not name statements on the server: {@code prepareThreshold=0}.
     *
     * @param version a version as {@link #version(Path)} gives it, e.g. {@code 1.18.0}
     * @return true from PgBouncer 1.21 on
     */
    public static boolean tracksPreparedStatements(String version) {
        Matcher m = VERSION.matcher("PgBouncer " + version);
        if (!m.find()) {
            throw new IllegalArgumentException("Not a PgBouncer version: " + version);
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 1 || minor >= 21;
    }

    /**
     * Host clients connect to.
     *
     * @return {@code 127.0.0.1}
     */
    public String host() {
        return "127.0.0.1";
    }

    /**
     * Port clients connect to.
     *
     * @return the TCP port PgBouncer listens on
     */
    public int port() {
        return port;
    }

    /**
     * The directory with {@code pgbouncer.ini} and {@code pgbouncer.log}.
     *
     * @return the directory given to {@link Builder#start(Path)}
     */
    public Path directory() {
        return directory;
    }

    /**
     * A URL for the standard driver through this PgBouncer, with {@code prepareThreshold=0}: the
     * driver then never names a statement on the server, which a pool in transaction mode could
     * hand to another client's transaction (PgBouncer before 1.21, or later without
     * {@code max_prepared_statements}).
     *
     * @param database the name of the database on the server
     * @return {@code jdbc:postgresql://127.0.0.1:port/database?prepareThreshold=0}
     */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port + "/" + database + "?prepareThreshold=0";
    }

    /**
     * A fresh unpooled data source of the standard driver through this PgBouncer, as {@link #jdbcUrl}.
     *
     * @param database the name of the database on the server
     * @param user     the user to log in as (PgBouncer accepts any)
     * @return a data source that opens a new client connection on every call
     */
    public DataSource dataSource(String database, String user) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(jdbcUrl(database));
        ds.setUser(user);
        return ds;
    }

    /**
     * Opens a client connection (autocommit on) through this PgBouncer, as {@link #jdbcUrl}.
     *
     * @param database the name of the database on the server
     * @param user     the user to log in as (PgBouncer accepts any)
     * @return a new connection, which the caller closes
     * @throws SQLException when PgBouncer or the server refuses it
     */
    public Connection connect(String database, String user) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Stops PgBouncer (SIGTERM, then SIGKILL if it lingers) and waits until it is gone. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return "PgBouncer " + version + " on " + host() + ":" + port + " (" + directory + ")";
    }

    /** Settings of a PgBouncer to start; see {@link PgBouncer#inFrontOf}. */
    public static final class Builder {
        private final PostgresServer server;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private String serverUser;
        private String runAs;

        private Builder(PostgresServer server) {
            this.server = server;
            this.serverUser = server.user();
            this.runAs = runningAsRoot() ? "nobody" : null;
            settings.put("pool_mode", "transaction");
            settings.put("auth_type", "any");
            settings.put("max_client_conn", "200");
            // The standard driver sends it at start-up; PgBouncer refuses start-up parameters it does not know.
            settings.put("ignore_startup_parameters", "extra_float_digits");
        }

        /**
         * {@code pool_mode}: {@code session}, {@code transaction} (the default here) or {@code statement}.
         *
         * @param mode the pool mode
         * @return this builder
         */
        public Builder poolMode(String mode) {
            return setting("pool_mode", mode);
        }

        /**
         * {@code default_pool_size}: at most this many server connections per database and user.
         *
         * @param size a positive number
         * @return this builder
         */
        public Builder defaultPoolSize(int size) {
            return setting("default_pool_size", Integer.toString(size));
        }

        /**
         * The user PgBouncer logs in to the server as, for every client; default: the server's own
         * {@link PostgresServer#user()}. A user of its own lets a test tell PgBouncer's server
         * connections apart in {@code pg_stat_activity}.
         *
         * @param user a role the server trusts from localhost
         * @return this builder
         */
        public Builder serverUser(String user) {
            this.serverUser = user;
            return this;
        }

        /**
         * The operating system user PgBouncer runs as ({@code -u}); default: {@code nobody} when this
         * JVM runs as root (PgBouncer refuses root), else none (the JVM's own user).
         *
         * @param user a user name, or null for none
         * @return this builder
         */
        public Builder runAs(String user) {
            this.runAs = user;
            return this;
        }

        /**
         * Any other setting of the {@code [pgbouncer]} section.
         *
         * @param name  the setting, e.g. {@code server_lifetime}
         * @param value its value, written as is
         * @return this builder
         */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /**
         * Writes the configuration into {@code directory} (created if absent) and starts PgBouncer;
         * returns once it accepts connections.
         *
         * @param directory where {@code pgbouncer.ini} and {@code pgbouncer.log} go, e.g. under the
         *                  module's {@code target}
         * @return the running PgBouncer, which the caller closes
         * @throws org.opentest4j.TestAbortedException when PgBouncer is missing outside CI (see {@link PgBouncer#executable()})
         * @throws IllegalStateException when it does not start
         */
        public PgBouncer start(Path directory) {
            Path executable = executable();
            String version = version(executable);
            IllegalStateException failure = null;
            for (int attempt = 0; attempt < 5; attempt++) { // another process may take the free port first
                int port = freePort();
                try {
                    return startOn(executable, version, directory, port);
                } catch (IllegalStateException e) {
                    failure = e;
                    if (!e.getMessage().contains("Address already in use")) {
                        throw e;
                    }
                }
            }
            throw failure;
        }

        private PgBouncer startOn(Path executable, String version, Path directory, int port) {
            Path ini = directory.resolve("pgbouncer.ini");
            Path log = directory.resolve("pgbouncer.log");
            try {
                Files.createDirectories(directory);
                StringBuilder text = new StringBuilder();
                text.append("[databases]\n* = host=").append(server.host()).append(" port=").append(server.port())
                        .append(" user=").append(serverUser).append('\n');
                text.append("[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ").append(port).append('\n');
                text.append("unix_socket_dir =\n"); // TCP only: no socket directory for the unprivileged user to write
                settings.forEach((k, v) -> text.append(k).append(" = ").append(v).append('\n'));
                Files.writeString(ini, text);
                Files.writeString(log, "");
                readableByAll(directory, "rwxr-xr-x");
                readableByAll(ini, "rw-r--r--");
                readableByAll(log, "rw-r--r--");
            } catch (IOException e) {
                throw new UncheckedIOException("Could not write PgBouncer's configuration in " + directory, e);
            }
            List<String> command = new ArrayList<>(List.of(executable.toString()));
            if (runAs != null) {
                command.addAll(List.of("-u", runAs));
            }
            command.add(ini.toString());
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new UncheckedIOException("Could not start " + command, e);
            }
            CompletableFuture<Void> up = new CompletableFuture<>();
            Thread copier = new Thread(() -> copyLog(process, log, up), "pgbouncer-log-" + port);
            copier.setDaemon(true);
            copier.start();
            try {
                up.get(STARTUP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                return new PgBouncer(process, port, directory, version);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                throw new IllegalStateException("Interrupted while PgBouncer started", e);
            } catch (ExecutionException | TimeoutException e) {
                process.destroyForcibly();
                throw new IllegalStateException("PgBouncer did not start (" + String.join(" ", command) + "); its log:\n"
                        + readQuietly(log), e);
            }
        }
    }

    /** Copies PgBouncer's output into its log file; completes {@code up} once it says it is up, or exceptionally when it exits. */
    private static void copyLog(Process process, Path log, CompletableFuture<Void> up) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.APPEND)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                if (line.contains("process up")) {
                    up.complete(null);
                }
            }
        } catch (IOException e) {
            // the process is gone, or the log cannot be written: the start below says so
        }
        up.completeExceptionally(new IllegalStateException("PgBouncer exited"));
    }

    private static Optional<Path> find() {
        String path = System.getenv("PATH");
        Stream<String> dirs = Stream.concat(path == null ? Stream.empty() : Stream.of(path.split(java.io.File.pathSeparator)),
                FOLDERS.stream());
        return dirs.filter(d -> !d.isBlank()).map(d -> Path.of(d, "pgbouncer")).filter(Files::isExecutable).findFirst();
    }

    /** Runs {@code apt-get update} and {@code apt-get install -y -qq pgbouncer}; returns what they said. */
    private static synchronized String install() {
        if (find().isPresent()) {
            return "";
        }
        List<String> prefix = runningAsRoot() ? List.of() : List.of("sudo", "-n");
        List<String> env = List.of("env", "DEBIAN_FRONTEND=noninteractive");
        StringBuilder said = new StringBuilder();
        for (List<String> step : List.of(List.of("apt-get", "update", "-qq"), List.of("apt-get", "install", "-y", "-qq", "pgbouncer"))) {
            List<String> command = new ArrayList<>(prefix);
            command.addAll(env);
            command.addAll(step);
            try {
                said.append(run(command, INSTALL_WAIT));
            } catch (RuntimeException e) {
                said.append(e.getMessage());
                break;
            }
        }
        return said.toString();
    }

    /** Runs a command to its end; returns its output, or throws with it when it fails. */
    private static String run(List<String> command, Duration wait) {
        try {
            Path out = Files.createTempFile("pgpubsub-command", ".log");
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(command + " did not finish within " + wait + ": " + Files.readString(out));
                }
                String said = Files.readString(out);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(command + " exited with " + p.exitValue() + ": " + said);
                }
                return said;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("Could not run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running " + command, e);
        }
    }

    private static boolean runningAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | RuntimeException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static void readableByAll(Path path, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to open up
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free port", e);
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
