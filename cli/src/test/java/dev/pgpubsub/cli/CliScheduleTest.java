package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Schedules of the configuration file: published by {@code listen}, listed by {@code status}. */
@PostgresTest
class CliScheduleTest {

    private final TestDatabase db;

    CliScheduleTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.schedule");
        db.execute("DROP TABLE IF EXISTS handled");
        db.execute("CREATE TABLE handled (n bigint, attempt int)");
    }

    record Run(int code, String out, String err) {
    }

    private static Run run(StopSignal stop, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, Map.of(), InputStream.nullInputStream(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), () -> stop, CliScheduleTest.class.getClassLoader());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path config(Path dir, String schedules) throws Exception {
        Path file = dir.resolve("pgpubsub.properties");
        Files.writeString(file, "jdbc-url=" + db.jdbcUrl() + "\nuser=" + db.user() + "\nhandler="
                + TestHandlers.Orders.class.getName() + "\n" + schedules);
        return file;
    }

    @Test
    void listenPublishesTheFilesSchedulesAndStatusListsThem(@TempDir Path dir) throws Exception {
        Path file = config(dir, """
                schedule.tick.every=1s
                schedule.tick.channel=ticks
                schedule.tick.payload={"from": "file"}
                schedule.orders_report.cron=0 6 * * *
                schedule.orders_report.zone=Europe/Paris
                schedule.orders_report.channel=reports
                """);
        StopSignal stop = new StopSignal();
        CompletableFuture<Run> listening = CompletableFuture.supplyAsync(() -> run(stop, "listen", "--config", file.toString()));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> db.number("SELECT count(*) FROM pgpubsub.notification WHERE channel = 'ticks'") >= 2);
        stop.received("SIGTERM");
        Run listen = listening.get(60, TimeUnit.SECONDS);
        assertThat(listen.code()).as(listen.err()).isZero();
        assertThat(db.strings("SELECT DISTINCT payload::text FROM pgpubsub.notification")).containsExactly("{\"from\": \"file\"}");

        Run status = run(new StopSignal(), "status", "--jdbc-url", db.jdbcUrl(), "--user", db.user());
        assertThat(status.code()).as(status.err()).isZero();
        assertThat(status.out()).contains("schedule", "last run (UTC)", "next run (UTC)");
        assertThat(status.out().lines().filter(line -> line.startsWith("orders_report")).findFirst().orElseThrow())
                .contains("reports").contains(" - ")
                .contains("cron \"0 6 * * *\" in Europe/Paris");
        String tick = status.out().lines().filter(line -> line.startsWith("tick ")).findFirst().orElseThrow();
        assertThat(tick).contains("ticks").contains("every PT1S").doesNotContain(" - ");
    }

    @Test
    void anInvalidScheduleInTheFileExitsWithTwoNamingItsKey(@TempDir Path dir) throws Exception {
        Run badCron = run(new StopSignal(), "listen", "--config",
                config(dir, "schedule.report.cron=0 25 * * *\nschedule.report.channel=reports\n").toString());
        assertThat(badCron.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(badCron.err()).contains("Schedule 'report': cron expression \"0 25 * * *\" is not valid")
                .contains("schedule.report.* in ");

        Run badZone = run(new StopSignal(), "listen", "--config", config(dir,
                "schedule.report.cron=0 6 * * *\nschedule.report.zone=Mars/Olympus\nschedule.report.channel=reports\n").toString());
        assertThat(badZone.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(badZone.err()).contains("time zone \"Mars/Olympus\" is not known");

        Run unknownField = run(new StopSignal(), "listen", "--config",
                config(dir, "schedule.report.every=1h\nschedule.report.chanel=reports\n").toString());
        assertThat(unknownField.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(unknownField.err()).contains("schedule.report.chanel").contains("channel");
    }
}
