package dev.pgpubsub.cli;

import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pgpubsub.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/** A {@code pgpubsub console} running in this JVM on any free loopback port, stopped as by SIGTERM. */
final class RunningConsole implements AutoCloseable {

    /** The token of a console started with one. */
    static final String TOKEN = "console-test-token-0123456789";

    private static final Pattern STARTED = Pattern.compile("pgpubsub console on http://127\\.0\\.0\\.1:(\\d+)/ \\((read-only|re-queue)");

    private final StopSignal stop = new StopSignal();
    private final CompletableFuture<Integer> code;
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final String base;

    /**
     * Starts a console on {@code db}, with the token {@link #TOKEN} when {@code withToken}, and waits
     * until it serves.
     */
    RunningConsole(TestDatabase db, boolean withToken, Path dir) throws Exception {
        List<String> args = new ArrayList<>(List.of("console", "--jdbc-url", db.jdbcUrl(), "--user", db.user(),
                "--http-port", "0"));
        if (withToken) {
            Path file = Files.writeString(dir.resolve("token"), TOKEN + "\n");
            args.addAll(List.of("--console-token-file", file.toString()));
        }
        Logger log = (Logger) LoggerFactory.getLogger(ConsoleCommand.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        log.addAppender(logged);
        code = CompletableFuture.supplyAsync(() -> Main.run(args.toArray(String[]::new), Map.of(),
                InputStream.nullInputStream(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), () -> stop, getClass().getClassLoader()));
        String mode = withToken ? "re-queue" : "read-only";
        try {
            int port = await().atMost(Duration.ofSeconds(60)).failFast(code::isDone).until(() -> List.copyOf(logged.list).stream()
                    .map(ILoggingEvent::getFormattedMessage).map(STARTED::matcher).filter(Matcher::find)
                    .filter(m -> m.group(2).equals(mode)).map(m -> Integer.parseInt(m.group(1))).findFirst().orElse(-1),
                    p -> p > 0);
            base = "http://127.0.0.1:" + port;
        } finally {
            log.detachAppender(logged);
        }
    }

    /** The console's address, e.g. {@code http://127.0.0.1:41234}, without a trailing slash. */
    String base() {
        return base;
    }

    @Override
    public void close() throws Exception {
        stop.received("SIGTERM");
        int exit = code.get(30, TimeUnit.SECONDS);
        if (exit != 0) {
            throw new AssertionError("the console exited with " + exit + ": " + err);
        }
    }
}
