package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pgpubsub console} over plain HTTP: its refusals, headers and checks, against a real Postgres. */
@PostgresTest
class ConsoleHttpTest {

    private final ConsoleClient http = new ConsoleClient();

    @TempDir
    Path dir;

    private static int run(ByteArrayOutputStream err, String... args) {
        return Main.run(args, Map.of(), InputStream.nullInputStream(), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8), StopSignal::new, ConsoleHttpTest.class.getClassLoader());
    }

    @Test
    void refusesAnAddressOtherMachinesReachWithoutAToken() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(run(err, "console", "--jdbc-url", "jdbc:postgresql://localhost:1/none", "--http-host", "0.0.0.0"))
                .isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(err.toString()).contains("--http-host 0.0.0.0 is reachable from other machines")
                .contains("--console-token-file");
    }

    @Test
    void aMissingTokenFileIsNamedWithTheFix() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path missing = dir.resolve("no-such-token");
        assertThat(run(err, "console", "--jdbc-url", "jdbc:postgresql://localhost:1/none", "--console-token-file",
                missing.toString())).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(err.toString()).contains("The console token file '" + missing + "' does not exist: create it, or give "
                + "its path with --console-token-file");
    }

    @Test
    void refusesAShortToken() throws Exception {
        Path token = Files.writeString(dir.resolve("short"), "abc\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(run(err, "console", "--jdbc-url", "jdbc:postgresql://localhost:1/none", "--console-token-file",
                token.toString())).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(err.toString()).contains("has 3 characters; give at least 16");
    }

    @Test
    void pagesCarryTheSecurityHeadersAndActionsAreRefusedWhenReadOnly(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            HttpResponse<String> overview = http.get(console.base() + "/");
            assertThat(overview.statusCode()).isEqualTo(200);
            assertThat(overview.headers().firstValue("Content-Security-Policy")).hasValue(
                    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
                            + "frame-ancestors 'none'; base-uri 'none'");
            assertThat(overview.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(overview.headers().firstValue("Referrer-Policy")).hasValue("same-origin");
            assertThat(overview.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(overview.body()).contains("id=\"read-only\"").doesNotContain("<script>").doesNotContain("style=");

            HttpResponse<String> css = http.get(console.base() + "/static/console.css");
            assertThat(css.headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");

            HttpResponse<String> get = http.get(console.base() + "/dead-letters/requeue");
            assertThat(get.statusCode()).isEqualTo(405);
            assertThat(get.headers().firstValue("Allow")).hasValue("POST");

            assertThat(overview.body()).as("a read-only console has no forms to post").doesNotContain("name=\"csrf\"");
            HttpResponse<String> post = http.post(console.base() + "/dead-letters/purge", null, "csrf=guessed&id=1&confirm=yes");
            assertThat(post.statusCode()).isEqualTo(403);
            assertThat(post.body()).contains("The console is read-only");
            assertThat(http.get(console.base() + "/nothing").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void withATokenEveryPageAsksForItAndFormsMustComeFromTheConsole(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        try (RunningConsole console = new RunningConsole(db, true, dir)) {
            HttpResponse<String> anonymous = http.get(console.base() + "/dead-letters");
            assertThat(anonymous.statusCode()).isEqualTo(303);
            assertThat(anonymous.headers().firstValue("Location")).hasValue("/login");

            String csrf = ConsoleClient.csrf(http.get(console.base() + "/login").body());
            assertThat(http.post(console.base() + "/login", null, "csrf=" + csrf + "&token=wrong-token-wrong-token").statusCode())
                    .isEqualTo(403);
            assertThat(http.post(console.base() + "/login", null, "token=" + RunningConsole.TOKEN).statusCode())
                    .as("a login without the CSRF token").isEqualTo(403);
            HttpResponse<String> login = http.post(console.base() + "/login", null, "csrf=" + csrf + "&token=" + RunningConsole.TOKEN);
            assertThat(login.statusCode()).isEqualTo(303);
            String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict");
            String session = cookie.substring(0, cookie.indexOf(';'));

            HttpResponse<String> overview = http.get(console.base() + "/", session);
            assertThat(overview.statusCode()).isEqualTo(200);
            assertThat(http.post(console.base() + "/dead-letters/requeue", session, "csrf=" + csrf + "&id=1")
                    .statusCode()).as("the login form's CSRF token is not the session's").isEqualTo(403);
            csrf = ConsoleClient.csrf(overview.body());
            HttpResponse<String> crossSite = http.post(console.base() + "/dead-letters/requeue", session,
                    "csrf=" + csrf + "&id=1", "Origin", "http://attacker.example");
            assertThat(crossSite.statusCode()).isEqualTo(403);
            HttpResponse<String> confirm = http.post(console.base() + "/dead-letters/requeue", session,
                    "csrf=" + csrf + "&id=1");
            assertThat(confirm.statusCode()).isEqualTo(200);
            assertThat(confirm.body()).contains("Re-queue 1 dead letter(s)?");
        }
    }

    /**
     * The Listeners page shows the heartbeat rows as text, live ones first and expired ones greyed; the
     * overview embeds the throughput chart, an SVG served by the console itself.
     */
    @Test
    void theListenersPageShowsHeartbeatsAndTheOverviewEmbedsTheThroughputChart(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        String columns = "INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening,"
                + " recovery_done, recovery_estimated, tasks_done, tasks_failed, started_at, beat_at, expires_at) VALUES ";
        db.execute(columns + "('pgpubsub-1', 'app-<b>1</b>', 4242, '{orders,invoices}', 'recovering', true, 1500, 20000,"
                + " 12345, 3, now(), now(), now() + interval '30 s')");
        db.execute(columns + "('pgpubsub-2', 'app-2', 77, '{orders}', 'running', false, NULL, NULL, 9, 0,"
                + " now() - interval '1 hour', now() - interval '5 minutes', now() - interval '4 minutes')");
        db.execute(columns + "('pgpubsub-3', 'app-3', 78, '{orders}', 'running', true, 0, 35, 4, 0,"
                + " now(), now(), now() + interval '30 s')");
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            HttpResponse<String> page = http.get(console.base() + "/listeners");
            assertThat(page.statusCode()).isEqualTo(200);
            String body = page.body();
            assertThat(body).contains("app-&lt;b&gt;1&lt;/b&gt;").doesNotContain("<b>1</b>")
                    .contains("<td class=\"channels\">orders, invoices</td>")
                    .contains("<td class=\"state\">recovering</td>")
                    .contains("<td class=\"recovery\">1,500 of ~20,000</td>")
                    .contains("<td class=\"recovery\">finished: 0 done</td>")
                    .contains("<td class=\"done\">12,345</td>")
                    .contains("<td class=\"state\">running (expired)</td>");
            assertThat(body.indexOf("data-pid=\"4242\"")).as("the live listener first").isLessThan(body.indexOf("data-pid=\"77\""));
            assertThat(body).contains("<tr class=\"stale\" data-listener=\"pgpubsub-2\"");

            HttpResponse<String> overview = http.get(console.base() + "/");
            assertThat(overview.body()).contains("<img id=\"throughput\" src=\"/throughput.svg\"");
            HttpResponse<String> chart = http.get(console.base() + "/throughput.svg");
            assertThat(chart.statusCode()).isEqualTo(200);
            assertThat(chart.headers().firstValue("Content-Type")).hasValue("image/svg+xml; charset=utf-8");
            assertThat(chart.body()).startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"").doesNotContain("<script");
        }
    }

    /** Unfiltered and by keyset, the dead-letter page is an index scan that stops after a page: no sort of the table. */
    @Test
    void theDeadLetterPageReadsTheNewestThroughAnIndexWithoutSorting(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason, dead_at)"
                + " SELECT 1000000 + g, 'plan_' || (g % 7), '{}', now(), 3, 'failed 3 of 3 attempts',"
                + " now() - g * interval '1 second' FROM generate_series(1, 100000) g");
        try {
            db.execute("ANALYZE pgpubsub.dead_letter");
            ConsoleQueries queries = new ConsoleQueries("pgpubsub", ConsoleCommand.STATEMENT_TIMEOUT);
            String first = plan(db, "EXPLAIN " + queries.deadLetterSql(false, false, false));
            assertThat(first).contains("Index Scan Backward using dead_letter_dead_at").doesNotContain("Sort");
            String next = plan(db, "EXPLAIN " + queries.deadLetterSql(false, false, true).replace("(?, ?)",
                    "(now() - interval '1 hour', 5)"));
            assertThat(next).contains("Index Scan Backward using dead_letter_dead_at").doesNotContain("Sort");

            try (RunningConsole console = new RunningConsole(db, false, dir)) {
                HttpResponse<String> page = http.get(console.base() + "/dead-letters");
                assertThat(page.statusCode()).isEqualTo(200);
                assertThat(page.body()).contains("1000001");
            }
        } finally {
            db.execute("DELETE FROM pgpubsub.dead_letter WHERE id > 1000000");
        }
    }

    private static String plan(TestDatabase db, String explain) throws Exception {
        return String.join("\n", db.strings(explain));
    }
}
