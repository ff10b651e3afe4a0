package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's defences, each as a request a hostile page (or a stray client) would send: a
 * foreign Host (DNS rebinding), cross-site and opaque-origin forms, CSRF tokens of another session or
 * in the URL, wrong tokens in a row; and a slow database that must not take every thread.
 */
@PostgresTest
class ConsoleSecurityTest {

    private final ConsoleClient http = new ConsoleClient();
    private final TestDatabase db;

    @TempDir
    Path dir;

    ConsoleSecurityTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void install() throws Exception {
        PgPubSub.migrate(db.dataSource());
    }

    /**
     * A read-only console asks for nothing, so a page of another site whose name resolves to
     * 127.0.0.1 could read it: it answers only to an IP address or localhost. With a token, a
     * foreign name finds the login form (it has no session cookie).
     */
    @Test
    void aConsoleWithoutTokenAnswersOnlyToAnAddressOrLocalhost() throws Exception {
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            int port = URI.create(console.base()).getPort();
            String foreign = rawGet(port, "attacker.example:" + port);
            assertThat(foreign).startsWith("HTTP/1.1 421").contains("open it as http://127.0.0.1:" + port + "/")
                    .doesNotContain("id=\"channels\"");
            assertThat(rawGet(port, "attacker.example")).startsWith("HTTP/1.1 421");
            assertThat(rawGet(port, "localhost:" + port)).startsWith("HTTP/1.1 200");
            assertThat(rawGet(port, "127.0.0.1:" + port)).startsWith("HTTP/1.1 200");
            assertThat(rawGet(port, "LOCALHOST.:" + port)).as("the fully qualified form, any case").startsWith("HTTP/1.1 200");
            assertThat(rawGet(port, "[::1]:" + port)).startsWith("HTTP/1.1 200");
        }
        try (RunningConsole console = new RunningConsole(db, true, dir)) {
            int port = URI.create(console.base()).getPort();
            assertThat(rawGet(port, "console.example:" + port)).startsWith("HTTP/1.1 303").contains("Location: /login");
        }
    }

    /**
     * The CSRF token belongs to a session: another session's, the login form's, or one in the URL
     * instead of the form is refused; so is a form from another site of the same site
     * ({@code Sec-Fetch-Site: same-site}), and one from an opaque origin ({@code Origin: null}).
     */
    @Test
    void formsNeedTheirSessionsTokenInTheBodyAndASameOriginBrowser() throws Exception {
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason)"
                + " VALUES (4101, 'csrf_cases', '{}', now(), 1, 'failed')");
        try (RunningConsole console = new RunningConsole(db, true, dir)) {
            String base = console.base();
            String alice = http.login(base);
            String bob = http.login(base);
            String aliceCsrf = ConsoleClient.csrf(http.get(base + "/dead-letters", alice).body());
            String bobCsrf = ConsoleClient.csrf(http.get(base + "/dead-letters", bob).body());
            assertThat(aliceCsrf).isNotEqualTo(bobCsrf);

            String form = "id=4101";
            assertThat(http.post(base + "/dead-letters/requeue", alice, "csrf=" + aliceCsrf + "&" + form).statusCode())
                    .as("the session's own token").isEqualTo(200);
            assertThat(http.post(base + "/dead-letters/requeue", alice, "csrf=" + bobCsrf + "&" + form).statusCode())
                    .as("another session's token").isEqualTo(403);
            HttpResponse<String> inUrl = http.send(HttpRequest.newBuilder(URI.create(base + "/dead-letters/requeue?csrf=" + aliceCsrf
                    + "&confirm=yes")).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)), alice);
            assertThat(inUrl.statusCode()).as("a token in the URL, not the form").isEqualTo(403);
            assertThat(http.post(base + "/dead-letters/requeue", alice, "csrf=" + aliceCsrf + "&" + form, "Sec-Fetch-Site",
                    "same-site").statusCode()).as("Sec-Fetch-Site: same-site").isEqualTo(403);
            assertThat(http.post(base + "/dead-letters/requeue", alice, "csrf=" + aliceCsrf + "&" + form, "Origin", "null")
                    .statusCode()).as("Origin: null").isEqualTo(403);
            assertThat(http.post(base + "/dead-letters/requeue", alice, "csrf=" + aliceCsrf + "&" + form, "Origin", base)
                    .statusCode()).as("the console's own Origin").isEqualTo(200);
            assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter WHERE id = 4101"))
                    .as("nothing was re-queued by any of them").isEqualTo(1);

            HttpResponse<String> done = http.post(base + "/dead-letters/requeue", alice, "csrf=" + aliceCsrf + "&confirm=yes&"
                    + form, "Sec-Fetch-Site", "same-origin");
            assertThat(done.statusCode()).isEqualTo(303);
            assertThat(db.number("SELECT count(*) FROM pgpubsub.notification WHERE id = 4101")).isEqualTo(1);
        } finally {
            db.execute("DELETE FROM pgpubsub.notification WHERE id = 4101");
            db.execute("DELETE FROM pgpubsub.dead_letter WHERE id = 4101");
        }
    }

    /** Ten wrong tokens in a minute, and even the right one is refused for the rest of it. */
    @Test
    void wrongTokensInARowAreThrottled() throws Exception {
        try (RunningConsole console = new RunningConsole(db, true, dir)) {
            String base = console.base();
            String csrf = ConsoleClient.csrf(http.get(base + "/login", null).body());
            for (int i = 0; i < ConsoleAuth.MAX_FAILED_LOGINS; i++) {
                assertThat(http.post(base + "/login", null, "csrf=" + csrf + "&token=wrong-" + i).statusCode()).isEqualTo(403);
            }
            HttpResponse<String> throttled = http.post(base + "/login", null, "csrf=" + csrf + "&token=" + RunningConsole.TOKEN);
            assertThat(throttled.statusCode()).isEqualTo(429);
            assertThat(throttled.headers().firstValue("Retry-After")).hasValue("60");
            assertThat(throttled.body()).contains("Too many wrong tokens");
            assertThat(throttled.headers().firstValue("Set-Cookie")).isEmpty();

            // Another address is not held up: the throttle is per client, so nobody can lock operators out.
            int port = URI.create(base).getPort();
            String other = rawPost(port, InetAddress.getByName("127.0.0.2"), "/login",
                    "csrf=" + csrf + "&token=" + RunningConsole.TOKEN);
            assertThat(other).startsWith("HTTP/1.1 303").containsIgnoringCase("Set-Cookie: " + ConsoleAuth.COOKIE + "=");
        }
    }

    /** Behind a proxy that speaks HTTPS to the browser, the session cookie is Secure. */
    @Test
    void theSessionCookieIsSecureBehindAnHttpsProxy() throws Exception {
        try (RunningConsole console = new RunningConsole(db, true, dir)) {
            String base = console.base();
            String csrf = ConsoleClient.csrf(http.get(base + "/login", null).body());
            HttpResponse<String> plain = http.post(base + "/login", null, "csrf=" + csrf + "&token=" + RunningConsole.TOKEN);
            assertThat(plain.headers().firstValue("Set-Cookie").orElseThrow()).doesNotContain("Secure");
            HttpResponse<String> proxied = http.post(base + "/login", null, "csrf=" + csrf + "&token=" + RunningConsole.TOKEN,
                    "X-Forwarded-Proto", "https");
            assertThat(proxied.headers().firstValue("Set-Cookie").orElseThrow()).contains("; Secure").contains("HttpOnly");
        }
    }

    /**
     * While the database holds a page up, a console allowed one page at a time answers the next
     * page 503 at once instead of queueing it; pages that need no database still answer, and the
     * held page completes when the database does.
     */
    @Test
    void aSlowDatabaseHoldsAtMostTheGatesThreads() throws Exception {
        try (HikariDataSource pool = ConsoleCommand.pool(db.dataSource());
                // A statement timeout longer than the test takes: the held page must be held by the lock only.
                ConsoleServer server = new ConsoleServer(pool, "pgpubsub", null, 1, Duration.ofMinutes(2));
                Connection locker = db.dataSource().getConnection()) {
            InetSocketAddress bound = server.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            String base = "http://127.0.0.1:" + bound.getPort();
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("LOCK TABLE pgpubsub.notification IN ACCESS EXCLUSIVE MODE");
            }
            CompletableFuture<HttpResponse<String>> held = HttpClient.newHttpClient().sendAsync(
                    HttpRequest.newBuilder(URI.create(base + "/")).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(30)).until(() -> db.number("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE wait_event_type = 'Lock' AND query LIKE '%notification%'") >= 1);

            HttpResponse<String> busy = http.get(base + "/listeners", null);
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.headers().firstValue("Retry-After")).hasValue("2");
            assertThat(busy.body()).contains("The console is busy");
            assertThat(http.get(base + "/static/console.css", null).statusCode()).as("no database, no gate").isEqualTo(200);
            assertThat(held).isNotDone();

            locker.rollback();
            assertThat(held.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(http.get(base + "/listeners", null).statusCode()).isEqualTo(200);
        }
    }

    /** A form POST from the local address {@code from} (a loopback one), over a plain socket; the whole answer. */
    private static String rawPost(int port, InetAddress from, String path, String body) throws Exception {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            socket.setSoTimeout(20_000);
            byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** A GET with the Host header as given, over a plain socket (the JDK's client will not set Host); the whole answer. */
    private static String rawGet(int port, String host) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
