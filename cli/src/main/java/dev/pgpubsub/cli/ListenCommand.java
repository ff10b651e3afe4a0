package dev.pgpubsub.cli;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.internal.Secrets;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerBuilder;
import dev.pgpubsub.listener.RetryPolicy;
import dev.pgpubsub.listener.micrometer.PgPubSubMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pgpubsub listen}: runs handlers until SIGTERM or SIGINT. */
@Command(name = "listen", description = "Run the handlers of the configured channels until SIGTERM/SIGINT (the default command).",
        mixinStandardHelpOptions = true)
final class ListenCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ListenCommand.class);

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    @Mixin
    HttpOptions http;

    @Option(names = "--handler", split = ",", paramLabel = "CLASS",
            description = "A handler bean class with a public no-argument constructor; repeatable or comma-separated "
                    + "(env PGPUBSUB_HANDLER). Beans listed for ServiceLoader are added.")
    List<String> handlers = List.of();

    @Option(names = "--channels", split = ",", paramLabel = "NAME",
            description = "Serve only these of the handlers' channels (env PGPUBSUB_CHANNELS); default: all.")
    List<String> channels;

    @Option(names = "--workers", defaultValue = "" + Listener.DEFAULT_WORKERS, description = "Handlers running at once (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--batch-size", defaultValue = "" + Listener.DEFAULT_BATCH_SIZE, description = "Rows claimed per transaction (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--fetch-size", defaultValue = "" + Listener.DEFAULT_RECOVERY_FETCH_SIZE,
            description = "Rows the recovery cursor reads per round trip (default: ${DEFAULT-VALUE}).")
    int fetchSize;

    @Option(names = "--recover", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Drain the backlog through a cursor before serving wake-ups (default: ${DEFAULT-VALUE}).")
    boolean recover;

    @Option(names = "--tracing", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Continue in each handler the trace its task was published in, so that the lines about the "
                    + "task carry traceId, spanId and parentId; spans are not exported (default: ${DEFAULT-VALUE}).")
    boolean tracing;

    @Option(names = "--console", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Serve the web console on the HTTP endpoints' port (needs --http-port; any address but this "
                    + "machine's own needs --console-token-file) (default: ${DEFAULT-VALUE}).")
    boolean console;

    @Option(names = "--console-token-file", paramLabel = "FILE",
            description = "A file holding the console operators' token (at least 16 characters): with it, the console "
                    + "asks for it and allows re-queue and purge; without it, the console is read-only.")
    java.nio.file.Path consoleTokenFile;

    @Option(names = "--migrate", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Install or upgrade the schema at start (default: ${DEFAULT-VALUE}).")
    boolean migrate;

    @Option(names = "--shutdown-grace", converter = DurationConverter.class,
            description = "How long a stop lets running handlers finish (default: ${DEFAULT-VALUE}).")
    Duration shutdownGrace = Listener.DEFAULT_SHUTDOWN_GRACE;

    @Option(names = "--poll-interval", converter = DurationConverter.class,
            description = "Safety-net poll for due rows without a wake-up (default: ${DEFAULT-VALUE}).")
    Duration pollInterval = Listener.DEFAULT_POLL_INTERVAL;

    @Option(names = "--handler-timeout", converter = DurationConverter.class,
            description = "How long one handler call may run before its transaction is aborted and the task retried "
                    + "(default: ${DEFAULT-VALUE}; @Listen(timeout) overrides it per channel).")
    Duration handlerTimeout = Listener.DEFAULT_HANDLER_TIMEOUT;

    @Option(names = "--max-attempts",
            description = "Attempts per task before it moves to the dead letters (default: ${DEFAULT-VALUE}; "
                    + "@Listen(maxAttempts) overrides it per channel).")
    int maxAttempts = RetryPolicy.DEFAULT.maxAttempts();

    @Option(names = "--retry-delay", converter = DurationConverter.class,
            description = "Delay after a first failure; it doubles with every failure (default: ${DEFAULT-VALUE}).")
    Duration retryDelay = RetryPolicy.DEFAULT.initialDelay();

    @Option(names = "--max-retry-delay", converter = DurationConverter.class,
            description = "Longest delay between attempts (default: ${DEFAULT-VALUE}).")
    Duration maxRetryDelay = RetryPolicy.DEFAULT.maxDelay();

    @Option(names = "--statement-timeout", converter = DurationConverter.class,
            description = "Statement timeout of the library's own queries (default: ${DEFAULT-VALUE}).")
    Duration statementTimeout = Listener.DEFAULT_STATEMENT_TIMEOUT;

    @Option(names = "--heartbeat-interval", converter = DurationConverter.class,
            description = "How often the listener writes its row for the console's Listeners page and throughput "
                    + "chart; 0 for none (default: ${DEFAULT-VALUE}).")
    Duration heartbeatInterval = Listener.DEFAULT_HEARTBEAT_INTERVAL;

    @Option(names = "--poll-only", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "No LISTEN connection: poll every --poll-interval (for PgBouncer in transaction mode; default: ${DEFAULT-VALUE}).")
    boolean pollOnly;

    /** The names the listener's builder and retry policy give the settings of this command's flags. */
    private static final Map<String, String> BUILDER_SETTINGS = Map.ofEntries(
            Map.entry("JDBC URL", "--jdbc-url"), Map.entry("workers", "--workers"), Map.entry("batchSize", "--batch-size"),
            Map.entry("recoveryFetchSize", "--fetch-size"), Map.entry("shutdownGrace", "--shutdown-grace"),
            Map.entry("pollInterval", "--poll-interval"), Map.entry("handlerTimeout", "--handler-timeout"),
            Map.entry("statementTimeout", "--statement-timeout"), Map.entry("outageLimit", "--outage-limit"),
            Map.entry("maxAttempts", "--max-attempts"), Map.entry("initialDelay", "--retry-delay"),
            Map.entry("maxDelay", "--max-retry-delay"), Map.entry("heartbeatInterval", "--heartbeat-interval"));
    private static final Pattern BUILDER_NAMES = Pattern.compile(BUILDER_SETTINGS.keySet().stream().map(Pattern::quote)
            .collect(Collectors.joining("|", "\\b(?:", ")\\b")));

    private final ConfigSources sources;
    private final PrintStream err;
    private final Supplier<StopSignal> signals;
    private final ClassLoader loader;

    ListenCommand(ConfigSources sources, PrintStream err, Supplier<StopSignal> signals, ClassLoader loader) {
        this.sources = sources;
        this.err = err;
        this.signals = signals;
        this.loader = loader;
    }

    @Override
    public Integer call() throws Exception {
        String url = connection.url();
        List<Object> beans = HandlerLoader.load(handlers, loader);
        StopSignal stop = signals.get();
        if (logging.json()) {
            stop.noticesTo(text -> LOG.info(text));
        }
        ListenerBuilder builder;
        try {
            builder = Listener.builder().jdbcUrl(url).user(connection.user).password(connection.password())
                    .schema(connection.schema).workers(workers).batchSize(batchSize).recoveryFetchSize(fetchSize)
                    .recoverOnStart(recover).shutdownGrace(shutdownGrace).pollInterval(pollInterval).pollOnly(pollOnly)
                    .handlerTimeout(handlerTimeout).statementTimeout(statementTimeout).heartbeatInterval(heartbeatInterval)
                    .outageLimit(connection.outageLimit)
                    .retryPolicy(RetryPolicy.DEFAULT.withMaxAttempts(maxAttempts).withDelays(retryDelay, maxRetryDelay))
                    .onFailure(cause -> stop.release("the database stayed unusable for longer than " + connection.outageLimit));
        } catch (IllegalArgumentException e) {
            throw new ConfigError(inCliTerms(e.getMessage()), e);
        }
        if (System.console() != null && !logging.json()) {
            builder.onRecoveryProgress(new ConsoleProgress());
        }
        InetSocketAddress httpAddress = httpAddress(); // before anything that needs closing: it may refuse the setting
        String consoleToken = consoleToken(httpAddress);
        TaskTraces traces = tracing ? new TaskTraces() : null;
        if (traces != null) {
            builder.observationRegistry(traces.registry());
        }
        HttpEndpoints endpoints = httpAddress == null ? null : new HttpEndpoints();
        Listener listener;
        try {
            if (endpoints != null) {
                builder.observer(PgPubSubMetrics.of(endpoints.registry()));
            }
            sources.schedules().forEach(builder::schedule);
            listener = builder.handlers(beans.toArray()).channels(channels).build();
        } catch (IllegalArgumentException | ConfigError e) {
            if (endpoints != null) {
                endpoints.close();
            }
            if (traces != null) {
                traces.close();
            }
            throw e instanceof ConfigError config ? config : new ConfigError(e.getMessage(), e);
        }
        printConfiguration();
        // Up before the migration and the start, which may wait for the database: probes get answers
        // (ready: 503, not started) all along. Stopped after the listener, so that ready says "stopping".
        // Closed in reverse: the listener first (whatever failed before its start), then the endpoints.
        if (console) {
            ConsoleCommand.noDelay();
        }
        com.zaxxer.hikari.HikariDataSource consolePool = console ? ConsoleCommand.pool(connection.dataSource()) : null;
        ConsoleServer consoleServer = console ? new ConsoleServer(consolePool, connection.schema, consoleToken,
                HttpEndpoints.THREADS) : null;
        try (consolePool; traces; endpoints; consoleServer; listener) {
            if (endpoints != null) {
                serveHttp(endpoints, httpAddress, listener, consoleServer);
            }
            if (migrate) {
                int applied = PgPubSub.migrate(connection.dataSource(), connection.schema);
                notice("schema '" + connection.schema + "' migrated (" + applied + " migration(s) applied)");
            }
            listener.start();
            stop.await();
            if (listener.failure().isEmpty()) {
                notice("stopping; running handlers have " + shutdownGrace.toSeconds() + " s to finish");
            }
        }
        if (listener.failure().isPresent()) {
            String stopped = "stopped: the database stayed unusable for longer than " + connection.outageLimit + " ("
                    + Failures.message(listener.failure().get()) + "); exiting with code " + ExitCodes.DATABASE_UNREACHABLE
                    + " so that a supervisor restarts the process";
            if (logging.json()) {
                LOG.error(stopped);
            } else {
                err.println("pgpubsub: " + stopped);
            }
            return ExitCodes.DATABASE_UNREACHABLE;
        }
        notice("stopped");
        return ExitCodes.OK;
    }

    /** Where --http-port asks the endpoints to listen; null when it is not given. */
    private InetSocketAddress httpAddress() {
        if (!http.enabled()) {
            return null;
        }
        String name = sources.nameAsGiven(spec.findOption(HttpOptions.PORT_FLAG));
        if (http.port < 0 || http.port > 65_535) {
            throw new ConfigError(name + " is " + http.port + "; give a port between 1 and 65535 (or 0 for any free one)");
        }
        InetSocketAddress address = new InetSocketAddress(http.host, http.port);
        if (address.isUnresolved()) {
            throw new ConfigError(sources.nameAsGiven(spec.findOption("--http-host")) + " '" + http.host
                    + "' is not a known host name or address; give e.g. 0.0.0.0 (every interface) or 127.0.0.1");
        }
        return address;
    }

    /**
     * The console's token, when --console asks for the console: refused without --http-port, and on
     * an address other machines reach without a token.
     */
    private String consoleToken(InetSocketAddress httpAddress) {
        if (!console) {
            if (consoleTokenFile != null) {
                throw new ConfigError(sources.nameAsGiven(spec.findOption("--console-token-file"))
                        + " is given without --console: add --console to serve the console, or leave the token out");
            }
            return null;
        }
        String flag = sources.nameAsGiven(spec.findOption("--console"));
        if (httpAddress == null) {
            throw new ConfigError(flag + " needs " + sources.nameAsGiven(spec.findOption(HttpOptions.PORT_FLAG))
                    + ": the console is served on the HTTP endpoints' port");
        }
        String token = ConsoleCommand.readToken(consoleTokenFile);
        if (token == null && !httpAddress.getAddress().isLoopbackAddress()) {
            throw new ConfigError(flag + " on " + http.host + " is reachable from other machines, and the console shows "
                    + "payloads: give --console-token-file FILE so that it asks for a token, or serve HTTP on 127.0.0.1");
        }
        return token;
    }

    private void serveHttp(HttpEndpoints endpoints, InetSocketAddress address, Listener listener, ConsoleServer console) {
        InetSocketAddress bound;
        try {
            bound = endpoints.start(address, listener, console == null ? null : console.mounted());
        } catch (IOException e) {
            String port = sources.nameAsGiven(spec.findOption(HttpOptions.PORT_FLAG));
            String host = sources.nameAsGiven(spec.findOption("--http-host"));
            String fix = e instanceof BindException && String.valueOf(e.getMessage()).contains("in use")
                    ? "another process uses port " + http.port + ": choose another with " + port + ", or stop that process"
                    : "check " + host + " (an address of this machine) and " + port;
            throw new ConfigError("Cannot serve HTTP on " + http.host + ":" + http.port + " (" + Failures.message(e)
                    + "); " + fix, e);
        }
        LOG.info("pgpubsub HTTP endpoints on http://{}:{} (/health/live, /health/ready, /metrics{})",
                bound.getHostString(), bound.getPort(), console == null ? "" : "; the console at /");
    }

    /** A line for the operator on stderr; with JSON logs, a log line among the others. */
    private void notice(String text) {
        if (logging.json()) {
            LOG.info(text);
        } else {
            err.println("pgpubsub: " + text);
        }
    }

    /**
     * A message of the listener's builder in the words of this command: its setting names become the
     * flag, environment variable or file key the value came from ({@code batchSize is 0} becomes
     * {@code --batch-size is 0} or {@code PGPUBSUB_BATCH_SIZE is 0}), and its Java examples become
     * durations as written here.
     */
    private String inCliTerms(String message) {
        String text = BUILDER_NAMES.matcher(message).replaceAll(name ->
                Matcher.quoteReplacement(sources.nameAsGiven(spec.findOption(BUILDER_SETTINGS.get(name.group())))));
        return text.replaceAll("Duration\\.ofSeconds\\((\\d+)\\)", "$1s");
    }

    /** The effective configuration, once, with where each value came from; passwords masked, in URLs too. */
    private void printConfiguration() {
        StringBuilder text = new StringBuilder("pgpubsub listen, effective configuration:");
        for (OptionSpec option : spec.options()) {
            if (option.usageHelp() || option.versionHelp()) {
                continue;
            }
            String key = ConfigSources.key(option);
            Object value = option.getValue();
            // The password is masked, and so is one written into a URL.
            String shown = key.equals("password") && value != null ? Secrets.MASK : Secrets.redact(String.valueOf(value));
            text.append(System.lineSeparator()).append("  ").append(key).append(" = ").append(shown)
                    .append("  (").append(sources.sourceOf(option)).append(')');
        }
        if (logging.json()) {
            LOG.info(text.toString());
        } else {
            err.println(text);
        }
    }
}
