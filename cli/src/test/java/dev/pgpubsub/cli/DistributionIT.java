package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.testing.InMemoryTracing;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The packaged distribution, run as a separate OS process with bin/pgpubsub: SIGTERM in the middle
 * of the work stops it gracefully (exit 0), and a second run finishes the rest, with every task's
 * effect committed exactly once.
 */
@PostgresTest
class DistributionIT {

    private static final int TASKS = 3_000;

    @Test
    void sigtermMidBatchStopsGracefullyAndARestartFinishesExactlyOnce(TestDatabase db) throws Exception {
        backlog(db, TASKS);

        Process first = start(db);
        await().atMost(Duration.ofSeconds(120)).until(() -> db.number("SELECT count(*) FROM handled") >= 300);
        first.destroy(); // SIGTERM, while batches are running
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        long done = db.number("SELECT count(*) FROM handled");
        assertThat(done).isLessThan(TASKS);
        assertThat(db.number("SELECT count(DISTINCT n) FROM handled")).isEqualTo(done);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(TASKS - done);

        Process second = start(db);
        await().atMost(Duration.ofSeconds(180)).until(() -> db.number("SELECT count(*) FROM pgpubsub.notification") == 0);
        second.destroy();
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).isZero();
        assertThat(db.number("SELECT count(*) FROM handled")).isEqualTo(TASKS);
        assertThat(db.number("SELECT count(DISTINCT n) FROM handled")).isEqualTo(TASKS);
    }

    @Test
    void aSecondSigtermExitsAtOnceAndCommitsNothingOfTheRunningBatch(TestDatabase db) throws Exception {
        backlog(db, 100);
        Path output = Files.createTempFile("pgpubsub-process", ".log");
        Process slow = start(db, 2_000, output); // each handler takes 2 s: a batch of 50 runs for minutes
        // A batch is running: its claim transaction has deleted its rows, not yet committed.
        await().atMost(Duration.ofSeconds(120)).until(() -> db.number("SELECT count(*) FROM pgpubsub.notification "
                + "WHERE xmax <> '0'") > 0);
        slow.destroy();
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(output).contains("SIGTERM received: stopping"));
        slow.destroy();
        assertThat(slow.waitFor(20, TimeUnit.SECONDS)).as("exited soon after the second signal").isTrue();
        assertThat(slow.exitValue()).isEqualTo(130);
        assertThat(db.number("SELECT count(*) FROM handled")).isZero();
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(100);
    }

    /**
     * Across processes: a task published under a span of this JVM's tracer is handled by the
     * standalone listener, whose JSON log line for it carries that trace id, with the publisher's
     * span as the parent of the handler's.
     */
    @Test
    void theStandaloneListenersLogLineForATaskCarriesThePublishersTrace(TestDatabase db) throws Exception {
        backlog(db, 0);
        Channel<TestHandlers.Refund> refunds = Channel.of("refunds", TestHandlers.Refund.class);
        Path output = Files.createTempFile("pgpubsub-process", ".log");
        try (InMemoryTracing tracing = new InMemoryTracing()) {
            Publisher publisher = Publisher.builder().observationRegistry(tracing.registry()).build();
            InMemoryTracing.InSpan<Long> request = tracing.inSpan("POST /refunds",
                    () -> publisher.publish(db.dataSource(), refunds, new TestHandlers.Refund(7)));
            SpanData publish = tracing.finishedSpans().stream().filter(s -> s.getName().equals("refunds publish"))
                    .findFirst().orElseThrow();
            assertThat(publish.getParentSpanId()).isEqualTo(request.spanId());

            Process listener = start(db, 0, output, "--handler", TestHandlers.Refunds.class.getName(), "--log-format", "json");
            try {
                await().atMost(Duration.ofSeconds(120)).until(() -> db.number("SELECT count(*) FROM handled") == 1);
            } finally {
                listener.destroy();
                assertThat(listener.waitFor(60, TimeUnit.SECONDS)).isTrue();
            }
            JsonMapper json = JsonMapper.builder().build();
            List<Map<String, Object>> lines = new ArrayList<>();
            for (String line : Files.readAllLines(output)) {
                if (line.startsWith("{")) {
                    lines.add(json.readValue(line, new TypeReference<Map<String, Object>>() { }));
                }
            }
            Map<String, Object> refund = lines.stream().filter(l -> "refund 7".equals(l.get("formattedMessage")))
                    .findFirst().orElseThrow(() -> new AssertionError("no line 'refund 7' in " + lines));
            @SuppressWarnings("unchecked")
            Map<String, String> mdc = (Map<String, String>) refund.get("mdc");
            assertThat(mdc).containsEntry("pgpubsub.task.id", Long.toString(request.value()))
                    .containsEntry("traceId", request.traceId())
                    .containsEntry("parentId", publish.getSpanId());
            assertThat(mdc.get("spanId")).matches("[0-9a-f]{16}").isNotEqualTo(publish.getSpanId());
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** README.md sends readers to the folder the build makes, with bin/, lib/ and ext/ in it. */
    @Test
    void theReadmeNamesTheFolderTheDistributionIsIn() throws Exception {
        Path distribution = Path.of(System.getProperty("pgpubsub.distribution")).toAbsolutePath().normalize();
        assertThat(distribution.resolve("bin/pgpubsub")).isExecutable();
        assertThat(distribution.resolve("lib")).isDirectory();
        assertThat(distribution.resolve("ext/README.txt")).isRegularFile();
        Path root = Path.of("").toAbsolutePath().getParent(); // the tests run in the cli module's folder
        String named = root.relativize(distribution).toString().replace(File.separatorChar, '/')
                .replace(System.getProperty("pgpubsub.build.version"), "<version>");
        assertThat(named).isEqualTo("cli/target/pgpubsub-<version>/pgpubsub-<version>");
        assertThat(Files.readString(root.resolve("README.md"))).contains("`" + named + "/`");
    }

    /** An empty side table and {@code tasks} pending orders, as left while no listener ran. */
    /**
     * A script's {@code ID=$(bin/pgpubsub publish ...)} gets the id and nothing else: the process logs
     * to stderr, and its logging configuration draws no status dump from logback (a deprecated
     * attribute once printed some 45 lines on stdout at every start).
     */
    @Test
    void publishPrintsOnlyTheIdOnStdout(TestDatabase db) throws Exception {
        backlog(db, 0);
        Path home = Path.of(System.getProperty("pgpubsub.distribution"));
        Path out = Files.createTempFile("pgpubsub-publish", ".out");
        Path err = Files.createTempFile("pgpubsub-publish", ".err");
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/pgpubsub").toString(), "publish", "orders", "{\"n\": 1}")
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("PGPUBSUB_JDBC_URL", db.jdbcUrl());
        builder.environment().put("PGPUBSUB_USER", db.user());
        Process publish = builder.start();
        assertThat(publish.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(publish.exitValue()).as(Files.readString(err)).isZero();
        long id = db.number("SELECT id FROM pgpubsub.notification WHERE channel = 'orders'");
        assertThat(Files.readString(out)).isEqualTo(id + "\n");
        assertThat(Files.readString(err)).doesNotContain("|-INFO").doesNotContain("|-WARN");
    }

    private static void backlog(TestDatabase db, int tasks) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DROP TABLE IF EXISTS handled");
        db.execute("CREATE TABLE handled (n bigint, attempt int)");
        db.execute("DELETE FROM pgpubsub.notification");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) SELECT 'orders', jsonb_build_object('n', g) "
                + "FROM generate_series(1, " + tasks + ") g");
    }

    private static Process start(TestDatabase db) throws Exception {
        return start(db, 5, null);
    }

    private static Process start(TestDatabase db, long handlerMillis, Path output) throws Exception {
        return start(db, handlerMillis, output, "--handler", TestHandlers.Orders.class.getName(), "--workers", "2",
                "--batch-size", "50");
    }

    /** Starts bin/pgpubsub listen with {@code args}; its output goes to {@code output}, or to this process's if null. */
    private static Process start(TestDatabase db, long handlerMillis, Path output, String... args) throws Exception {
        Path home = Path.of(System.getProperty("pgpubsub.distribution"));
        Path script = home.resolve("bin/pgpubsub");
        assertThat(Files.isExecutable(script)).as("%s is executable", script).isTrue();
        Path testClasses = Path.of(TestHandlers.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> command = new ArrayList<>(List.of(script.toString(), "listen"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output == null ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.to(output.toFile()));
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("PGPUBSUB_CLASSPATH", testClasses.toString() + File.pathSeparator);
        builder.environment().put("PGPUBSUB_JDBC_URL", db.jdbcUrl());
        builder.environment().put("PGPUBSUB_USER", db.user());
        builder.environment().put("PGPUBSUB_JAVA_OPTS", "-Dpgpubsub.test.handler.millis=" + handlerMillis);
        return builder.start();
    }
}
