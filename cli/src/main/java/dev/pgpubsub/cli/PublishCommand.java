package dev.pgpubsub.cli;

import dev.pgpubsub.core.PublishOptions;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.core.internal.PublishStatements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code pgpubsub publish CHANNEL JSON}: publishes one task, for scripts and operators. The payload is
 * the JSON argument, or standard input when that argument is {@code -}, or the file named by
 * {@code --payload-file}: exactly one of them. A large payload needs one of the last two, as one
 * argument may not be longer than 128 KiB on Linux. The cap is the Java publisher's, 1 MiB.
 */
@Command(name = "publish", mixinStandardHelpOptions = true,
        description = {"Publish one task: pgpubsub publish orders '{\"orderId\": 42}'.",
            "The payload: the JSON argument; '-' reads it from standard input; or --payload-file FILE. At most 1 MiB."})
final class PublishCommand implements Callable<Integer> {

    /** The JSON argument that means: read standard input. */
    static final String STDIN = "-";

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    @Parameters(index = "0", paramLabel = "CHANNEL", description = "The channel.")
    String channel;

    @Parameters(index = "1", arity = "0..1", paramLabel = "JSON",
            description = "The payload, as JSON; - reads it from standard input.")
    String json;

    @Option(names = "--payload-file", paramLabel = "FILE", description = "Read the payload (JSON) from this file.")
    Path payloadFile;

    @Option(names = "--run-at", paramLabel = "TIME", description = "Not before this time (ISO-8601, e.g. 2030-01-01T10:00:00Z).")
    OffsetDateTime runAt;

    @Option(names = "--traceparent", paramLabel = "TRACEPARENT",
            description = "Continue this trace in the handler: a W3C traceparent, e.g. 00-<32 hex>-<16 hex>-01.")
    String traceparent;

    @Option(names = "--key", paramLabel = "KEY",
            description = "A unique key on the channel: while a task with it is pending, keep that one (see --replace).")
    String key;

    @Option(names = "--replace", description = "With --key: replace the pending task's payload and run time instead.")
    boolean replace;

    @Option(names = "--priority", paramLabel = "N", defaultValue = "0",
            description = "0 (the default) to 100: among due tasks of the channel, a higher priority is claimed first.")
    int priority;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final PrintStream out;
    private final InputStream in;

    PublishCommand(PrintStream out, InputStream in) {
        this.out = out;
        this.in = in;
    }

    @Override
    public Integer call() throws SQLException {
        PublishStatements statements = new PublishStatements(connection.schema);
        Names.requireChannel(channel, connection.schema);
        if (replace && key == null) {
            throw new ConfigError("--replace needs --key KEY: only a task with a key can be replaced");
        }
        if (key != null) {
            try {
                PublishOptions.defaults().key(key);
            } catch (IllegalArgumentException e) {
                throw new ConfigError("--key: " + e.getMessage(), e);
            }
        }
        try {
            PublishOptions.defaults().priority(priority);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("--priority: " + e.getMessage(), e);
        }
        String payload = payload();
        try (Connection c = connection.connectInstalled()) {
            out.println(statements.publishOne(c, channel, payload, runAt == null ? null : runAt.toInstant(),
                    traceparent == null ? null : JSON.writeValueAsString(Map.of("traceparent", traceparent)), key,
                    replace ? "replace" : "keep", priority));
        } catch (SQLException e) {
            if ("22P02".equals(e.getSQLState())) {
                throw new ConfigError("The payload is not valid JSON: " + e.getMessage(), e);
            }
            if ("22023".equals(e.getSQLState()) && traceparent != null) {
                throw new ConfigError("--traceparent " + traceparent + " is not a W3C traceparent: give it as "
                        + "00-<32 hex digits of trace id>-<16 hex digits of span id>-<2 hex digits of flags>, e.g. "
                        + "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", e);
            }
            throw e;
        }
        return ExitCodes.OK;
    }

    /** The payload from wherever it was given, within the Java publisher's cap. */
    private String payload() {
        if ((json == null) == (payloadFile == null)) {
            throw new ConfigError("publish needs the payload once: as the JSON argument, as - to read it from standard "
                    + "input, or with --payload-file FILE" + (json == null ? "" : " (not both)"));
        }
        if (payloadFile != null) {
            try (InputStream file = Files.newInputStream(payloadFile)) {
                return read(file);
            } catch (IOException e) {
                throw new ConfigError("Cannot read the payload file '" + payloadFile + "': " + e.getMessage(), e);
            }
        }
        if (json.equals(STDIN)) {
            try {
                return read(in);
            } catch (IOException e) {
                throw new ConfigError("Cannot read the payload from standard input: " + e.getMessage(), e);
            }
        }
        PayloadCodec.requireWithinCap(channel, json.getBytes(StandardCharsets.UTF_8).length,
                Publisher.DEFAULT_MAX_PAYLOAD_BYTES, "");
        return json;
    }

    /** Reads the payload, keeping no more than the cap: past it, the rest is only counted for the message. */
    private String read(InputStream source) throws IOException {
        int cap = Publisher.DEFAULT_MAX_PAYLOAD_BYTES;
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = source.read(buffer)) >= 0; ) {
            if (total + n <= cap) {
                kept.write(buffer, 0, n);
            }
            total += n;
        }
        PayloadCodec.requireWithinCap(channel, total, cap, "");
        return kept.toString(StandardCharsets.UTF_8);
    }
}
