package dev.pgpubsub.cli;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pgpubsub console}: the web console for operators (docs/console.md), served until a stop
 * signal. Read-only unless {@code --console-token-file} names the operators' token; it binds to
 * loopback unless told otherwise, and refuses any other address without a token.
 */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Serve the web console: channels, pending tasks, dead letters; re-queue and purge with a token.")
final class ConsoleCommand implements Callable<Integer> {

    /** This machine only, unless told otherwise. */
    static final String DEFAULT_HOST = "127.0.0.1";
    /** The port when none is given. */
    static final int DEFAULT_PORT = 8025;
    /** How long any statement of the console may run: pages, and re-queue and purge. */
    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleCommand.class);

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    @Option(names = "--http-host", paramLabel = "ADDRESS", defaultValue = DEFAULT_HOST,
            description = "The address the console listens on (env PGPUBSUB_HTTP_HOST; default: ${DEFAULT-VALUE}, this "
                    + "machine only). Any other address needs --console-token-file.")
    String host;

    @Option(names = HttpOptions.PORT_FLAG, paramLabel = "PORT", defaultValue = "" + DEFAULT_PORT,
            description = "The port the console listens on; 0 for any free one (env PGPUBSUB_HTTP_PORT; default: "
                    + "${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--console-token-file", paramLabel = "FILE",
            description = "A file holding the operators' token (at least 16 characters; a trailing line break is "
                    + "ignored): with it, the console asks for the token and allows re-queue and purge; without it, "
                    + "it is read-only (env PGPUBSUB_CONSOLE_TOKEN_FILE).")
    Path tokenFile;

    private final Supplier<StopSignal> signals;

    ConsoleCommand(Supplier<StopSignal> signals) {
        this.signals = signals;
    }

    @Override
    public Integer call() throws Exception {
        String token = token();
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ConfigError("--http-host '" + host + "' is not an address of this machine: use e.g. 127.0.0.1", e);
        }
        if (token == null && !address.isLoopbackAddress()) {
            throw new ConfigError("--http-host " + host + " is reachable from other machines, and the console shows "
                    + "payloads: give --console-token-file FILE (or PGPUBSUB_CONSOLE_TOKEN_FILE) so that it asks for a "
                    + "token, or listen on 127.0.0.1 (the default)");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigError("--http-port " + port + " is not a port: use 0 to 65535");
        }
        connection.connectInstalled().close(); // says in the command line's terms when it is not installed
        StopSignal stop = signals.get();
        if (logging.json()) {
            stop.noticesTo(text -> LOG.info(text));
        }
        noDelay();
        try (HikariDataSource pool = pool(connection.dataSource());
                ConsoleServer server = new ConsoleServer(pool, connection.schema, token, ConsoleServer.PAGES_AT_ONCE)) {
            InetSocketAddress bound;
            try {
                bound = server.start(new InetSocketAddress(address, port));
            } catch (BindException e) {
                throw new ConfigError("Cannot listen on " + host + ":" + port + " (" + e.getMessage()
                        + "): choose another --http-port or --http-host", e);
            }
            LOG.info("pgpubsub console on http://{}:{}/ ({})", bound.getAddress().getHostAddress(), bound.getPort(),
                    token == null ? "read-only: no --console-token-file" : "re-queue and purge after login with the token");
            stop.await();
        }
        return ExitCodes.OK;
    }

    /**
     * Pages go out as soon as they are written: without TCP_NODELAY the JDK's HTTP server waits on
     * the client's delayed acknowledgement, some 40 ms a page. Read when the first server starts.
     */
    static void noDelay() {
        System.setProperty("sun.net.httpserver.nodelay", System.getProperty("sun.net.httpserver.nodelay", "true"));
    }

    /**
     * A few pooled connections for the pages: opening a connection per request cost more than the
     * page's queries (about 80 ms a page). Sized to the server's threads; none is opened until needed.
     * Nothing is set on the connections' sessions (the console's statement timeout is set per
     * transaction), so the pool may go through PgBouncer in transaction mode.
     */
    static HikariDataSource pool(javax.sql.DataSource dataSource) {
        HikariConfig config = new HikariConfig();
        config.setDataSource(dataSource);
        config.setPoolName("pgpubsub-console");
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(0);
        config.setIdleTimeout(60_000);
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(-1);
        return new HikariDataSource(config);
    }

    private String token() {
        return readToken(tokenFile);
    }

    /** The token in {@code tokenFile}, checked; null without a file. */
    static String readToken(Path tokenFile) {
        if (tokenFile == null) {
            return null;
        }
        String token = SecretFiles.read(tokenFile, "console token file", "--console-token-file");
        if (token.length() < ConsoleAuth.MIN_TOKEN_LENGTH) {
            throw new ConfigError("The console token in '" + tokenFile + "' has " + token.length() + " characters; give at "
                    + "least " + ConsoleAuth.MIN_TOKEN_LENGTH + ", e.g. 32 random bytes in base64");
        }
        return token;
    }
}
