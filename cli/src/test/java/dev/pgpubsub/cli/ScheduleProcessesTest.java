package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code pgpubsub listen} processes, each a JVM of its own with the same one-second schedule
 * in its configuration file: every slot is published once, none is missed, none twice.
 */
@PostgresTest
class ScheduleProcessesTest {

    private static final int PROCESSES = 3;
    private static final Duration AWAIT = Duration.ofSeconds(120);

    private final TestDatabase db;

    ScheduleProcessesTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.schedule");
        db.execute("DROP TABLE IF EXISTS handled");
        db.execute("CREATE TABLE handled (n bigint, attempt int)");
    }

    /**
     * A listener's first tick offers only the latest slot (what was missed before it started is
     * skipped), so the slots are counted from one published after all three processes have started.
     */
    @Test
    void threeListenerProcessesPublishEverySlotOfASecondlyScheduleExactlyOnce(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("pgpubsub.properties");
        Files.writeString(config, "jdbc-url=" + db.jdbcUrl() + "\nuser=" + db.user() + "\n"
                + (db.password().isEmpty() ? "" : "password=" + db.password() + "\n")
                + "handler=" + TestHandlers.Orders.class.getName() + "\nworkers=1\n"
                + "schedule.tick.every=1s\nschedule.tick.channel=ticks\nschedule.tick.payload={\"from\": \"processes\"}\n");
        List<Process> processes = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        Instant from;
        try {
            for (int i = 0; i < PROCESSES; i++) {
                Path log = dir.resolve("listener-" + i + ".log");
                logs.add(log);
                processes.add(start(config, log));
            }
            await().atMost(AWAIT).failFast("a listener process exited", () -> processes.stream().anyMatch(p -> !p.isAlive()))
                    .until(() -> count(logs, " started: ") == PROCESSES);
            // Every process has started, and its timer's first tick is a moment away: the slots from
            // two seconds on are offered by all three.
            Instant started = Instant.ofEpochMilli(db.number("SELECT (extract(epoch FROM date_trunc('second', now())) * 1000)"
                    + "::bigint"));
            await().atMost(AWAIT).until(() -> lastSlot() != null && !lastSlot().isBefore(started.plusSeconds(2)));
            from = lastSlot();
            await().atMost(AWAIT).failFast("a listener process exited", () -> processes.stream().anyMatch(p -> !p.isAlive()))
                    .until(() -> slots().stream().filter(s -> !s.isBefore(from)).count() >= 10);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "; the listeners' logs:\n" + tails(logs), e);
        } finally {
            processes.forEach(Process::destroy); // SIGTERM: each stops gracefully
            for (Process p : processes) {
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
        for (int i = 0; i < PROCESSES; i++) {
            assertThat(processes.get(i).exitValue()).as("exit code of listener %d; its log:%n%s", i, Files.readString(logs.get(i)))
                    .isZero();
        }
        List<Instant> slots = slots();
        Instant until = slots.get(slots.size() - 1);
        assertThat(new TreeSet<>(slots)).as("no slot twice").hasSameSizeAs(slots);
        assertThat(slots).as("on whole seconds").allSatisfy(slot -> assertThat(slot.toEpochMilli() % 1000).isZero());
        List<Instant> interior = slots.stream().filter(s -> !s.isBefore(from)).toList();
        assertThat(interior).as("every slot from %s to %s", from, until)
                .hasSize((int) Duration.between(from, until).toSeconds() + 1)
                .hasSizeGreaterThanOrEqualTo(10);
        assertThat(db.strings("SELECT DISTINCT payload::text FROM pgpubsub.notification WHERE channel = 'ticks'"))
                .containsExactly("{\"from\": \"processes\"}");
    }

    /** {@code java -cp <the test classpath> dev.pgpubsub.cli.Main listen --config file}, its output to {@code log}. */
    private static Process start(Path config, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow"); // Netty, inside pgjdbc-ng
        }
        // Three JVMs share the machine with the tests: start them light.
        command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m"));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "listen", "--config",
                config.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
        builder.environment().keySet().removeIf(name -> name.startsWith("PGPUBSUB_")); // only the file configures them
        return builder.start();
    }

    private static long count(List<Path> logs, String text) throws IOException {
        long n = 0;
        for (Path log : logs) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                n++;
            }
        }
        return n;
    }

    private static String tails(List<Path> logs) throws IOException {
        StringBuilder out = new StringBuilder();
        for (Path log : logs) {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            out.append("--- ").append(log.getFileName()).append('\n');
            lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(line -> out.append(line).append('\n'));
        }
        return out.toString();
    }

    private Instant lastSlot() throws SQLException {
        List<String> last = db.strings("SELECT (extract(epoch FROM last_slot) * 1000)::bigint FROM pgpubsub.schedule "
                + "WHERE name = 'tick' AND last_slot IS NOT NULL");
        return last.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(last.get(0)));
    }

    private List<Instant> slots() throws SQLException {
        return db.strings("SELECT (extract(epoch FROM run_at) * 1000)::bigint FROM pgpubsub.notification "
                + "WHERE channel = 'ticks' ORDER BY run_at").stream()
                .map(ms -> Instant.ofEpochMilli(Long.parseLong(ms))).collect(Collectors.toList());
    }
}
