package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/** The process's commands, run in this JVM against a real Postgres. */
@PostgresTest
class CliTest {

    private final TestDatabase db;
    private final Map<String, String> env = new HashMap<>();

    CliTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification");
        db.execute("DROP TABLE IF EXISTS handled");
        db.execute("CREATE TABLE handled (n bigint, attempt int)");
    }

    /** The outcome of one run: exit code, stdout, stderr. */
    record Run(int code, String out, String err) {
    }

    private Run run(String... args) {
        return run(new StopSignal(), args);
    }

    private Run run(StopSignal stop, String... args) {
        return run(stop, InputStream.nullInputStream(), args);
    }

    private Run run(StopSignal stop, InputStream in, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, env, in, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), () -> stop, getClass().getClassLoader());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private List<String> connection() {
        return List.of("--jdbc-url", db.jdbcUrl(), "--user", db.user());
    }

    private String[] args(String command, String... more) {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(connection());
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void versionIsTheBuildsVersion() {
        String built = System.getProperty("pgpubsub.build.version");
        assertThat(built).as("the build passes its version to the tests").isNotBlank();
        Run version = run("--version");
        assertThat(version.code()).isZero();
        assertThat(version.out().trim()).isEqualTo("pgpubsub " + built);
    }

    @Test
    void migrateSaysWhatItDidAndIsANoOpTheSecondTime(PostgresServer server) throws Exception {
        try (TestDatabase fresh = server.createDatabase("cli_migrate")) {
            String[] migrate = {"migrate", "--jdbc-url", fresh.jdbcUrl(), "--user", fresh.user()};
            Run first = run(migrate);
            assertThat(first.code()).isZero();
            assertThat(first.out()).contains("(10 migration(s) applied)");
            assertThat(run(migrate).out()).contains("(0 migration(s) applied)");
        }
    }

    /**
     * A user who may not create the schema, or tables in it, is refused at once: Flyway would retry
     * each creation ten times a second apart (11 s) though waiting cannot help.
     */
    @Test
    void migrateWithoutTheCreatePrivilegeFailsAtOnceWithExitCodeTwo(PostgresServer server) throws Exception {
        try (TestDatabase fresh = server.createDatabase("cli_no_create")) {
            fresh.execute("DROP ROLE IF EXISTS cli_no_create");
            fresh.execute("CREATE ROLE cli_no_create LOGIN PASSWORD 'no-create'");
            env.put("PGPUBSUB_PASSWORD", "no-create");
            String[] migrate = {"migrate", "--jdbc-url", fresh.jdbcUrl(), "--user", "cli_no_create"};
            try {
                long started = System.nanoTime();
                Run noDatabaseGrant = run(migrate);
                Duration took = Duration.ofNanos(System.nanoTime() - started);
                assertThat(noDatabaseGrant.code()).as(noDatabaseGrant.err()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
                assertThat(noDatabaseGrant.err().lines().toList()).singleElement().asString()
                        .contains("user 'cli_no_create' may not create schema 'pgpubsub' in database '" + fresh.name() + "'")
                        .contains("GRANT CREATE ON DATABASE " + fresh.name() + " TO cli_no_create");
                // Flyway's retries alone would take 10 s; a normal refusal takes well under one.
                assertThat(took).as("time to refuse").isLessThan(Duration.ofSeconds(5));

                fresh.execute("CREATE SCHEMA pgpubsub");
                started = System.nanoTime();
                Run noSchemaGrant = run(migrate);
                took = Duration.ofNanos(System.nanoTime() - started);
                assertThat(noSchemaGrant.code()).as(noSchemaGrant.err()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
                assertThat(noSchemaGrant.err()).contains("may not create tables in schema 'pgpubsub'")
                        .contains("GRANT USAGE, CREATE ON SCHEMA pgpubsub TO cli_no_create");
                assertThat(took).as("time to refuse").isLessThan(Duration.ofSeconds(5));
                fresh.execute("GRANT CREATE ON SCHEMA pgpubsub TO cli_no_create");
                assertThat(run(migrate).err()).as("CREATE without USAGE").contains("may not create tables in schema");

                fresh.execute("GRANT USAGE ON SCHEMA pgpubsub TO cli_no_create");
                Run granted = run(migrate);
                assertThat(granted.code()).as(granted.err()).isZero();
                assertThat(granted.out()).contains("(10 migration(s) applied)");
            } finally {
                fresh.execute("DROP OWNED BY cli_no_create CASCADE");
                fresh.execute("DROP ROLE cli_no_create");
            }
        }
    }

    @Test
    void publishPrintsTheIdAndStatusShowsThePendingTasks() throws Exception {
        Run published = run(args("publish", "orders", "{\"n\": 1}"));
        assertThat(published.code()).isZero();
        long id = Long.parseLong(published.out().trim());
        assertThat(db.strings("SELECT id || ' ' || payload::text FROM pgpubsub.notification")).containsExactly(id + " {\"n\": 1}");
        run(args("publish", "orders", "{\"n\": 2}", "--run-at", "2099-01-01T00:00:00Z"));
        run(args("publish", "invoices", "{}"));

        Run status = run(args("status"));
        assertThat(status.code()).isZero();
        assertThat(status.out().lines().map(l -> l.trim().replaceAll("\\s+", " ")))
                .contains("channel pending due oldest due retrying dead letters")
                .anyMatch(l -> l.matches("orders 2 1 0:00:0\\d 0 0"))
                .anyMatch(l -> l.matches("invoices 1 1 0:00:0\\d 0 0"));
    }

    /** A script continues its own trace: the task carries the traceparent given, and a malformed one is refused. */
    @Test
    void publishTakesATraceparentAndRefusesAMalformedOne() throws Exception {
        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        Run traced = run(args("publish", "orders", "{\"n\": 1}", "--traceparent", traceparent));
        assertThat(traced.code()).as(traced.err()).isZero();
        assertThat(db.strings("SELECT trace_context->>'traceparent' FROM pgpubsub.notification WHERE id = " + traced.out().trim()))
                .containsExactly(traceparent);

        Run refused = run(args("publish", "orders", "{\"n\": 2}", "--traceparent", "00-abc-01"));
        assertThat(refused.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(refused.err()).contains("--traceparent 00-abc-01 is not a W3C traceparent", "00-<32 hex digits");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(1);
    }

    /** A payload too large for one argument comes from standard input or a file; the Java publisher's cap holds. */
    @Test
    void publishReadsThePayloadFromStandardInputOrAFileWithinTheCap(@TempDir Path dir) throws Exception {
        // 200 KiB: more than Linux lets one argument be.
        String big = "{\"text\": \"" + "x".repeat(200 * 1024) + "\"}";
        Run piped = run(new StopSignal(), new ByteArrayInputStream((big + "\n").getBytes(StandardCharsets.UTF_8)),
                args("publish", "orders", "-"));
        assertThat(piped.code()).as(piped.err()).isZero();
        long pipedId = Long.parseLong(piped.out().trim());

        Path file = dir.resolve("payload.json");
        Files.writeString(file, "{\"n\": 7, \"text\": \"ünïcode\"}\n");
        Run fromFile = run(args("publish", "orders", "--payload-file", file.toString(), "--run-at", "2099-01-01T00:00:00Z"));
        assertThat(fromFile.code()).as(fromFile.err()).isZero();
        long fileId = Long.parseLong(fromFile.out().trim());
        assertThat(db.strings("SELECT id || ' ' || length(payload->>'text') || ' ' || (run_at > now() + interval '1 year') "
                + "FROM pgpubsub.notification ORDER BY id"))
                .containsExactly(pipedId + " " + 200 * 1024 + " false", fileId + " 7 true");
        assertThat(db.strings("SELECT payload->>'text' FROM pgpubsub.notification WHERE id = " + fileId)).containsExactly("ünïcode");

        // Over 1 MiB: refused with the Java publisher's message, however it is given, and nothing is published.
        String huge = "{\"text\": \"" + "x".repeat(1 << 20) + "\"}";
        int hugeBytes = huge.length();
        Files.writeString(file, huge);
        for (Run refused : List.of(
                run(new StopSignal(), new ByteArrayInputStream(huge.getBytes(StandardCharsets.UTF_8)), args("publish", "orders", "-")),
                run(args("publish", "orders", "--payload-file", file.toString())),
                run(args("publish", "orders", huge)))) {
            assertThat(refused.code()).as(refused.err()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
            assertThat(refused.err()).isEqualTo("pgpubsub: The payload for channel 'orders' is " + hugeBytes + " bytes of JSON, "
                    + "over the cap of 1048576 bytes. Keep large data in a table of your own and publish its key." + System.lineSeparator());
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(2);

        Run neither = run(args("publish", "orders"));
        assertThat(neither.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(neither.err()).contains("as the JSON argument, as - to read it from standard input, or with --payload-file FILE");
        Run both = run(args("publish", "orders", "{}", "--payload-file", file.toString()));
        assertThat(both.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(both.err()).contains("(not both)");
    }

    @Test
    void deadLettersAreListedRequeuedAndPurgedAndStatusCountsThem() throws Exception {
        db.execute("DELETE FROM pgpubsub.dead_letter");
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, errors, reason) VALUES "
                + "(901, 'refunds', '{\"n\": 1}', now(), 25, '[{\"attempt\": 25, \"at\": \"2026-11-23T10:00:00+00:00\", "
                + "\"error\": \"java.lang.IllegalStateException: bank offline\"}]', 'failed 25 of 25 attempts'), "
                + "(902, 'refunds', '{\"n\": 2}', now(), 1, '[]', 'payload of 9000000 bytes is larger than the listener loads')");

        Run list = run(args("dead-letters"));
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains("901").contains("failed 25 of 25 attempts").contains("bank offline").contains("902");
        assertThat(run(args("status")).out().lines().map(l -> l.trim().replaceAll("\\s+", " ")))
                .anyMatch(l -> l.equals("refunds 0 0 - 0 2"));

        Run unnamed = run(args("dead-letters", "requeue"));
        assertThat(unnamed.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(unnamed.err()).contains("--channel NAME or --id");

        assertThat(run(args("dead-letters", "requeue", "--id", "901")).out()).contains("1 dead letter(s) re-queued");
        assertThat(db.strings("SELECT id || ':' || attempts FROM pgpubsub.notification WHERE channel = 'refunds'"))
                .containsExactly("901:0");
        assertThat(run(args("dead-letters", "purge", "--channel", "refunds")).out()).contains("1 dead letter(s) purged");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        assertThat(run(args("dead-letters", "list")).out()).contains("(no dead letters)");
    }

    @Test
    void publishWithAKeyKeepsOrReplacesAndCancelSaysWhatItFound() throws Exception {
        db.execute("DELETE FROM pgpubsub.notification WHERE channel = 'reminders'");
        Run first = run(args("publish", "reminders", "{\"n\": 1}", "--key", "order-42"));
        assertThat(first.code()).as(first.err()).isZero();
        long id = Long.parseLong(first.out().trim());
        assertThat(run(args("publish", "reminders", "{\"n\": 2}", "--key", "order-42")).out().trim()).isEqualTo(Long.toString(id));
        assertThat(run(args("publish", "reminders", "{\"n\": 3}", "--key", "order-42", "--replace")).out().trim())
                .isEqualTo(Long.toString(id));
        assertThat(db.strings("SELECT payload->>'n' FROM pgpubsub.notification WHERE channel = 'reminders'")).containsExactly("3");
        Run replaceWithoutKey = run(args("publish", "reminders", "{}", "--replace"));
        assertThat(replaceWithoutKey.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(replaceWithoutKey.err()).contains("--replace needs --key KEY");
        assertThat(run(args("publish", "reminders", "{}", "--key", " ")).err()).contains("--key: The key \" \" is blank");

        Run unnamed = run(args("cancel", "--channel", "reminders"));
        assertThat(unnamed.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(unnamed.err()).contains("cancel needs either --id ID, or --channel NAME with --key KEY");
        Run cancelled = run(args("cancel", "--channel", "reminders", "--key", "order-42"));
        assertThat(cancelled.code()).as(cancelled.err()).isZero();
        assertThat(cancelled.out()).contains("cancelled the task with key \"order-42\" on channel 'reminders'");
        Run gone = run(args("cancel", "--id", Long.toString(id)));
        assertThat(gone.code()).isEqualTo(ExitCodes.TASK_NOT_FOUND);
        assertThat(gone.out()).contains("not found: no pending task is task " + id);

        long running = db.number("SELECT pgpubsub.publish('reminders', '{}')");
        try (java.sql.Connection claim = db.connect()) {
            claim.setAutoCommit(false);
            claim.createStatement().execute("DELETE FROM pgpubsub.notification WHERE id = " + running);
            Run held = run(args("cancel", "--id", Long.toString(running)));
            assertThat(held.code()).isEqualTo(ExitCodes.TASK_RUNNING);
            assertThat(held.out()).contains("is running");
            claim.rollback();
        }
        assertThat(run(args("cancel", "--id", Long.toString(running))).code()).isZero();
    }

    /** A dead letter's texts may quote a payload; listed, its control characters must not reach the terminal. */
    @Test
    void deadLettersAreListedWithTheirControlCharactersEscaped() throws Exception {
        db.execute("DELETE FROM pgpubsub.dead_letter");
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, errors, reason) VALUES "
                + "(903, 'refunds', '{}', now(), 1, jsonb_build_array(jsonb_build_object('attempt', 1, 'at', now(), "
                + "'error', E'bad \\x1b]0;owned\\x07 title')), E'reason \\x1b[2J\\nINFO forged')");
        Run list = run(args("dead-letters", "list"));
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out().chars().filter(c -> Character.isISOControl(c) && c != '\n')).isEmpty();
        assertThat(list.out()).contains("reason \\u001b[2J\\nINFO forged").contains("bad \\u001b]0;owned\\u0007 title");
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    @Test
    void badInputGetsOneLineAndExitCodeTwo() {
        for (String[] bad : List.of(args("publish", "bad name", "{}"), args("publish", "orders", "{not json"),
                args("listen", "--no-such-flag"), args("listen", "--workers", "many"),
                args("listen", "--handler", "com.example.Missing"),
                args("listen", "--handler", TestHandlers.NeedsArgument.class.getName()),
                args("listen", "--handler", TestHandlers.NoHandlers.class.getName()),
                args("listen", "--handler", TestHandlers.Orders.class.getName(), "--channels", "invoices"),
                new String[] {"listen", "--handler", TestHandlers.Orders.class.getName()})) {
            Run r = run(bad);
            assertThat(r.code()).as("exit code of %s", List.of(bad)).isEqualTo(ExitCodes.BAD_CONFIGURATION);
            assertThat(r.err().lines().toList()).as("stderr of %s", List.of(bad)).hasSize(1)
                    .allSatisfy(line -> assertThat(line).startsWith("pgpubsub: ").doesNotContain("\tat "));
        }
        assertThat(run(args("publish", "bad name", "{}")).err()).contains("'bad name'");
        assertThat(run(args("listen", "--handler", "com.example.Missing")).err())
                .contains("'com.example.Missing' was not found").contains("ext/");
        assertThat(run(args("listen", "--handler", TestHandlers.NeedsArgument.class.getName())).err())
                .contains("no public no-argument constructor");
        assertThat(run(args("listen", "--handler", TestHandlers.NoHandlers.class.getName())).err())
                .contains("no method annotated @Listen");
        assertThat(run("listen", "--handler", TestHandlers.Orders.class.getName()).err()).contains("--jdbc-url");
    }

    @Test
    void anUnreachableDatabaseExitsWithThreeAfterTheOutageLimit(PostgresServer server) {
        Run r = run("migrate", "--jdbc-url", "jdbc:postgresql://localhost:1/nowhere", "--user", "x", "--outage-limit", "1s");
        assertThat(r.code()).isEqualTo(ExitCodes.DATABASE_UNREACHABLE);
        assertThat(r.err().lines().toList()).hasSize(1);
    }

    /** What only a change of settings mends fails at once, each with its own exit code and message. */
    @Test
    void anUnknownDatabaseAWrongLoginAndAMissingSchemaFailAtOnceEachWithItsOwnCode(PostgresServer server) throws Exception {
        // The outage limit is long: none of these may wait for it.
        Run missingDb = run("status", "--jdbc-url", "jdbc:postgresql://localhost:" + server.port() + "/no_such_db",
                "--user", server.user(), "--outage-limit", "10m");
        assertThat(missingDb.code()).as(missingDb.err()).isEqualTo(ExitCodes.UNKNOWN_DATABASE);
        assertThat(missingDb.err()).contains("no_such_db");

        db.execute("DROP ROLE IF EXISTS cli_no_login");
        db.execute("CREATE ROLE cli_no_login NOLOGIN");
        Run refused = run("status", "--jdbc-url", db.jdbcUrl(), "--user", "cli_no_login", "--outage-limit", "10m");
        assertThat(refused.code()).as(refused.err()).isEqualTo(ExitCodes.AUTHENTICATION_FAILED);

        try (TestDatabase empty = server.createDatabase("cli_not_installed")) {
            for (String command : List.of("status", "listen", "dead-letters")) {
                List<String> args = new ArrayList<>(List.of(command, "--jdbc-url", empty.jdbcUrl(), "--user", empty.user(),
                        "--outage-limit", "10m"));
                if (command.equals("listen")) {
                    args.addAll(List.of("--handler", TestHandlers.Orders.class.getName()));
                }
                if (command.equals("dead-letters")) {
                    args.add("list");
                }
                Run r = run(args.toArray(String[]::new));
                assertThat(r.code()).as(command + ": " + r.err()).isEqualTo(ExitCodes.NOT_INSTALLED);
                assertThat(r.err()).as(command).contains("pgpubsub is not installed in schema 'pgpubsub'")
                        .contains("Run bin/pgpubsub migrate first").doesNotContain("PgPubSub.migrate");
            }
        }
    }

    /** Postgres refuses sessions while it starts or stops: a command waits for it within the outage limit. */
    @Test
    void statusDuringARestartWaitsForTheDatabase(EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase own = server.createDatabase("cli_restart")) {
            run("migrate", "--jdbc-url", own.jdbcUrl(), "--user", own.user());
            ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ConnectionOptions.class);
            ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> retries = new ch.qos.logback.core.read.ListAppender<>();
            retries.start();
            logger.addAppender(retries);
            server.stop();
            CompletableFuture<Run> status;
            try {
                status = CompletableFuture.supplyAsync(
                        () -> run("status", "--jdbc-url", own.jdbcUrl(), "--user", own.user(), "--outage-limit", "2m"));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    synchronized (retries) {
                        return retries.list.size() >= 2;
                    }
                });
            } finally {
                server.start();
                logger.detachAppender(retries);
            }
            Run r = status.get(60, TimeUnit.SECONDS);
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).isNotBlank();
            assertThat(retries.list.get(0).getFormattedMessage()).contains("trying again in").contains("--outage-limit");
        }
    }

    /** A password written into a URL is masked in the printed configuration and in every error. */
    @Test
    void passwordsInUrlsAreNeverPrinted() {
        Run listen = run("listen", "--jdbc-url", "jdbc:postgresql://localhost:1/nowhere?user=app&password=s3cret",
                "--handler", TestHandlers.Orders.class.getName(), "--outage-limit", "1s");
        assertThat(listen.code()).as(listen.err()).isEqualTo(ExitCodes.DATABASE_UNREACHABLE);
        assertThat(listen.err()).contains("jdbc-url = jdbc:postgresql://localhost:1/nowhere?user=app&password=****  (flag)")
                .contains("Could not connect to jdbc:postgresql://localhost:1/nowhere?user=app&password=****")
                .doesNotContain("s3cret");

        env.put("PGPUBSUB_JDBC_URL", "postgresql://app:s3cret@db.example/shop");
        for (String command : List.of("migrate", "status", "publish")) {
            Run r = command.equals("publish") ? run(command, "orders", "{}") : run(command);
            assertThat(r.code()).as(command).isEqualTo(ExitCodes.BAD_CONFIGURATION);
            assertThat(r.err()).as(command).contains("'postgresql://app:****@db.example/shop' is not a Postgres JDBC URL")
                    .doesNotContain("s3cret");
        }
    }

    /** A password given as a flag works, with one warning; given otherwise, there is none. */
    @Test
    void aPasswordFlagIsWarnedAboutAndAPasswordFileIsRead(@TempDir Path dir) throws Exception {
        Run flagged = run(args("status", "--password", "s3cret"));
        assertThat(flagged.code()).as(flagged.err()).isZero();
        assertThat(flagged.err().lines().toList()).containsExactly("pgpubsub: WARN --password shows the password to every "
                + "user of this machine (in the process list): give it with --password-file FILE or PGPUBSUB_PASSWORD instead");

        Path file = dir.resolve("password");
        Files.writeString(file, " s3cret \n");
        ConnectionOptions options = new ConnectionOptions();
        options.passwordFile = file;
        assertThat(options.password()).as("only the trailing line break is dropped").isEqualTo(" s3cret ");

        env.put("PGPUBSUB_PASSWORD", "s3cret");
        Run quiet = run(args("status"));
        assertThat(quiet.code()).as(quiet.err()).isZero();
        assertThat(quiet.err()).isEmpty();
        Run fromFile = run(args("status", "--password-file", file.toString()));
        assertThat(fromFile.code()).as(fromFile.err()).isZero();
        assertThat(fromFile.err()).isEmpty();
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgpubsub.properties");
        Files.writeString(file, "jdbc-url=" + db.jdbcUrl() + "\nuser=" + db.user() + "\nworkers=3\nbatch-size=7\n"
                + "fetch-size=123\npassword=from-file\nhandler=" + TestHandlers.Orders.class.getName() + "\n");
        env.put("PGPUBSUB_WORKERS", "5");
        env.put("PGPUBSUB_PASSWORD", "");
        StopSignal stop = new StopSignal();
        stop.received("SIGTERM"); // stop as soon as started
        Run r = run(stop, "--config", file.toString(), "--batch-size", "9");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err())
                .contains("workers = 5  (env PGPUBSUB_WORKERS)")
                .contains("batch-size = 9  (flag)")
                .contains("fetch-size = 123  (file " + file + ")")
                .contains("shutdown-grace = PT30S  (default)")
                .contains("password = ****")
                .doesNotContain("from-file")
                .contains("pgpubsub: stopped");
    }

    /** A bad value is named as the user gave it: flag, environment variable or key in the file. */
    @Test
    void badValuesAreNamedAsTheUserGaveThem(@TempDir Path dir) throws Exception {
        String orders = TestHandlers.Orders.class.getName();
        assertThat(oneErrorLine(args("listen", "--handler", orders, "--batch-size", "0")))
                .isEqualTo("pgpubsub: --batch-size is 0; it must be between 1 and 10000");
        assertThat(oneErrorLine(args("listen", "--handler", orders, "--retry-delay", "2h")))
                .isEqualTo("pgpubsub: --max-retry-delay is PT1H, shorter than --retry-delay (PT2H); make it at least --retry-delay");

        Path file = dir.resolve("pgpubsub.properties");
        Files.writeString(file, "outage-limit=0s\n");
        assertThat(oneErrorLine(args("listen", "--handler", orders, "--config", file.toString())))
                .isEqualTo("pgpubsub: outage-limit in " + file + " is PT0S; give a positive duration, e.g. 1s");

        env.put("PGPUBSUB_WORKERS", "0");
        assertThat(oneErrorLine(args("listen", "--handler", orders))).isEqualTo("pgpubsub: PGPUBSUB_WORKERS is 0; it must be between 1 and 1000");
        env.put("PGPUBSUB_WORKERS", "many");
        assertThat(oneErrorLine(args("listen", "--handler", orders))).startsWith("pgpubsub: Invalid value for PGPUBSUB_WORKERS: 'many'");
    }

    private String oneErrorLine(String... args) {
        Run r = run(args);
        assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(r.err().lines()).hasSize(1);
        return r.err().strip();
    }

    /** The handlers' variable is PGPUBSUB_HANDLER, as the flag is --handler; the messages and ext/README.txt say so. */
    @Test
    void theHandlersVariableIsNamedAsItIsRead() throws Exception {
        Run none = run(args("listen"));
        assertThat(none.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(none.err()).contains("--handler (or PGPUBSUB_HANDLER)").doesNotContain("PGPUBSUB_HANDLERS");
        assertThat(Files.readString(Path.of("src/main/dist/ext/README.txt")))
                .contains("PGPUBSUB_HANDLER").doesNotContain("PGPUBSUB_HANDLERS");

        env.put("PGPUBSUB_HANDLER", TestHandlers.Orders.class.getName());
        StopSignal stop = new StopSignal();
        stop.received("SIGTERM");
        Run listen = run(stop, args("listen"));
        assertThat(listen.code()).as(listen.err()).isZero();
        assertThat(listen.err()).contains("handler = [" + TestHandlers.Orders.class.getName() + "]  (env PGPUBSUB_HANDLER)");
    }

    /** A misspelt variable is warned about, once, with the closest known one; it is not refused. */
    @Test
    void anUnknownVariableGetsOneWarningNamingTheClosestKnownOne() {
        env.put("PGPUBSUB_WORKER", "3");
        env.put("PGPUBSUB_HANDLERS", "com.example.Orders");
        env.put("PGPUBSUB_JDBCURL", "jdbc:postgresql://elsewhere/db");
        // Set by Kubernetes for a service named pgpubsub, and by the start script and logging: not ours to warn about.
        for (String quiet : List.of("PGPUBSUB_SERVICE_HOST", "PGPUBSUB_SERVICE_PORT", "PGPUBSUB_SERVICE_PORT_HTTP",
                "PGPUBSUB_PORT", "PGPUBSUB_PORT_5432_TCP_ADDR", "PGPUBSUB_LOG_LEVEL", "PGPUBSUB_JAVA_OPTS")) {
            env.put(quiet, "x");
        }
        Run status = run(args("status"));
        assertThat(status.code()).as(status.err()).isZero();
        assertThat(status.err().lines().toList()).containsExactly(
                "pgpubsub: WARN unknown environment variable PGPUBSUB_HANDLERS is ignored; did you mean PGPUBSUB_HANDLER?",
                "pgpubsub: WARN unknown environment variable PGPUBSUB_JDBCURL is ignored; did you mean PGPUBSUB_JDBC_URL?",
                "pgpubsub: WARN unknown environment variable PGPUBSUB_WORKER is ignored; did you mean PGPUBSUB_WORKERS?");
    }

    @Test
    void anUnknownSettingInTheFileIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "jdbc-url=" + db.jdbcUrl() + "\nworkerz=3\n");
        Run r = run("listen", "--config", file.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(r.err()).contains("[workerz]").contains("known settings");
    }

    @Test
    void listenRunsTheHandlersUntilStoppedAndExitsZero() throws Exception {
        StopSignal stop = new StopSignal();
        CompletableFuture<Run> listening = CompletableFuture.supplyAsync(
                () -> run(stop, args("listen", "--handler", TestHandlers.Orders.class.getName(), "--workers", "2")));
        for (int n = 0; n < 20; n++) {
            run(args("publish", "orders", "{\"n\": " + n + "}"));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> db.number("SELECT count(*) FROM handled") == 20);
        stop.received("SIGTERM");
        Run r = listening.get(60, TimeUnit.SECONDS);
        assertThat(r.code()).isZero();
        assertThat(db.number("SELECT count(DISTINCT n) FROM handled")).isEqualTo(20);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    /**
     * With {@code --log-format json} every line the process logs is one JSON object, and those about a
     * task (its handler's own, the listener's warning that it failed) carry the task in their MDC.
     */
    @Test
    void listenWithJsonLogsWritesOneObjectPerLineAndTheTasksLinesCarryTheTask() throws Exception {
        db.execute("DELETE FROM pgpubsub.dead_letter");
        long paid = Long.parseLong(run(args("publish", "refunds", "{\"n\": 2}")).out().trim());
        long refused = Long.parseLong(run(args("publish", "refunds", "{\"n\": -1}")).out().trim());
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        Run r;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            configureLogging("logback.xml"); // the process's own configuration, as bin/pgpubsub runs it
            StopSignal stop = new StopSignal();
            CompletableFuture<Run> listening = CompletableFuture.supplyAsync(() -> run(stop,
                    args("listen", "--handler", TestHandlers.Refunds.class.getName(), "--log-format", "json")));
            await().atMost(Duration.ofSeconds(60)).until(() -> db.number("SELECT count(*) FROM handled") == 1
                    && db.number("SELECT count(*) FROM pgpubsub.dead_letter") == 1);
            stop.received("SIGTERM");
            r = listening.get(60, TimeUnit.SECONDS);
        } finally {
            System.setErr(stderr);
            configureLogging("logback-test.xml");
        }
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).as("nothing beside the log").isEmpty();

        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        JsonMapper json = JsonMapper.builder().build();
        List<Map<String, Object>> logged = new ArrayList<>();
        for (String line : lines) {
            Map<String, Object> object;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> read = json.readValue(line, Map.class);
                object = read;
            } catch (JacksonException e) {
                throw new AssertionError("Not a JSON object: " + line, e);
            }
            assertThat(object).as(line).containsKeys("timestamp", "level", "threadName", "loggerName", "mdc", "formattedMessage");
            logged.add(object);
        }
        assertThat(logged).anySatisfy(line -> assertThat((String) line.get("formattedMessage"))
                .startsWith("pgpubsub listen, effective configuration:").contains("log-format = json  (flag)"));
        assertThat(logged).anySatisfy(line -> assertThat(line.get("formattedMessage")).isEqualTo("stopped"));

        // Run again, in attempt 1, when its batch-mate fails: each time with its own MDC.
        assertThat(logged).filteredOn(line -> "refund 2".equals(line.get("formattedMessage"))).isNotEmpty()
                .allSatisfy(line -> assertTaskMdc(line.get("mdc"), paid));
        assertThat(logged).filteredOn(line -> "refund -1".equals(line.get("formattedMessage"))).isNotEmpty()
                .allSatisfy(line -> assertTaskMdc(line.get("mdc"), refused));
        assertThat(logged).filteredOn(line -> ((String) line.get("formattedMessage"))
                .startsWith("Task " + refused + " on channel 'refunds' failed its last attempt (1 of 1)")).singleElement()
                .satisfies(line -> {
                    assertThat(line.get("level")).isEqualTo("WARN");
                    assertThat((String) line.get("formattedMessage")).contains("refund -1 refused");
                    assertTaskMdc(line.get("mdc"), refused);
                    // The same trace as the handler's line: the span lasts until the outcome is logged.
                    assertThat(logged).filteredOn(l -> "refund -1".equals(l.get("formattedMessage")))
                            .extracting(l -> (Object) ((Map<?, ?>) l.get("mdc")).get("traceId"))
                            .containsOnly((Object) ((Map<?, ?>) line.get("mdc")).get("traceId"));
                });
        assertThat(logged).filteredOn(line -> !((Map<?, ?>) line.get("mdc")).isEmpty()).allSatisfy(line ->
                assertThat((String) line.get("formattedMessage")).containsAnyOf("refund", "Task " + refused));
    }

    /**
     * The task's MDC: its id, channel and attempt, and the ids of the trace its handler runs in (a
     * trace of its own: it was published outside one, so no parent).
     */
    private static void assertTaskMdc(Object mdc, long id) {
        Map<String, String> entries = new java.util.HashMap<>();
        ((Map<?, ?>) mdc).forEach((k, v) -> entries.put((String) k, (String) v));
        assertThat(entries.remove("traceId")).matches("[0-9a-f]{32}");
        assertThat(entries.remove("spanId")).matches("[0-9a-f]{16}");
        assertThat(entries).isEqualTo(Map.of("pgpubsub.task.id", Long.toString(id), "pgpubsub.task.channel", "refunds",
                "pgpubsub.task.attempt", "1"));
    }

    private static void configureLogging(String resource) throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(CliTest.class.getClassLoader().getResource(resource));
    }

    @Test
    void listenExitsWithThreeWhenTheDatabaseStaysAwayForLongerThanTheOutageLimit(EmbeddedPostgresServer server)
            throws Exception {
        try (TestDatabase own = server.createDatabase("cli_outage")) {
            PgPubSub.migrate(own.dataSource());
            StopSignal stop = new StopSignal();
            CompletableFuture<Run> listening = CompletableFuture.supplyAsync(() -> run(stop, "listen", "--jdbc-url",
                    own.jdbcUrl(), "--user", own.user(), "--handler", TestHandlers.Orders.class.getName(),
                    "--outage-limit", "2s"));
            own.execute("CREATE TABLE handled (n bigint, attempt int)");
            own.execute("SELECT pgpubsub.publish('orders', '{\"n\": 1}')");
            // Serving: its task is done.
            await().atMost(Duration.ofSeconds(60)).until(() -> own.number("SELECT count(*) FROM handled") == 1);
            server.stop();
            try {
                Run r = listening.get(120, TimeUnit.SECONDS);
                assertThat(r.code()).as(r.err()).isEqualTo(ExitCodes.DATABASE_UNREACHABLE);
                assertThat(r.err()).contains("stayed unusable for longer than PT2S").contains("exiting with code 3");
            } finally {
                server.start();
            }
        }
    }
}
