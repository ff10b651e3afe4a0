package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/** {@code listen --http-port}: health and metrics through a real HTTP client, a real listener and a real Postgres. */
@PostgresTest
class CliHttpTest {

    private static final Duration AWAIT = Duration.ofSeconds(90);
    private static final Pattern ENDPOINTS = Pattern.compile("pgpubsub HTTP endpoints on http://127\\.0\\.0\\.1:(\\d+) ");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final Logger commandLog = (Logger) LoggerFactory.getLogger(ListenCommand.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Map<String, String> env = new HashMap<>();

    /** A {@code listen} running in this JVM, stopped as by SIGTERM. */
    private record Listening(StopSignal stop, CompletableFuture<Integer> code, ByteArrayOutputStream err) {
    }

    /** An answer: its status, content type and body. */
    private record Answer(int status, String type, String body) {
        @SuppressWarnings("unchecked")
        Map<String, Object> json() {
            return JSON.readValue(body, Map.class);
        }
    }

    @BeforeEach
    void capture() {
        logged.start();
        commandLog.addAppender(logged);
    }

    @AfterEach
    void release() {
        commandLog.detachAppender(logged);
    }

    private Listening listen(TestDatabase db, int httpPort, String... more) {
        List<String> args = new ArrayList<>(List.of("listen", "--jdbc-url", db.jdbcUrl(), "--user", db.user(),
                "--handler", TestHandlers.Orders.class.getName(), "--http-host", "127.0.0.1", "--http-port",
                Integer.toString(httpPort)));
        args.addAll(List.of(more));
        StopSignal stop = new StopSignal();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> Main.run(args.toArray(String[]::new), env,
                InputStream.nullInputStream(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), () -> stop, getClass().getClassLoader()));
        return new Listening(stop, code, err);
    }

    /** The port the process logged, once it did. */
    private int boundPort() {
        return await().atMost(AWAIT).until(() -> logged.list.stream().map(ILoggingEvent::getFormattedMessage)
                .map(ENDPOINTS::matcher).filter(Matcher::find).map(m -> Integer.parseInt(m.group(1))).findFirst()
                .orElse(-1), port -> port > 0);
    }

    private Answer get(int port, String path) throws IOException, InterruptedException {
        return send(port, path, "GET");
    }

    private Answer send(int port, String path, String method) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""), response.body());
    }

    private static void setUp(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification");
        db.execute("DROP TABLE IF EXISTS handled");
        db.execute("CREATE TABLE handled (n bigint, attempt int)");
    }

    @Test
    void healthAndMetricsAnswerWhileListeningAndTheServerStopsWithTheProcess(TestDatabase db) throws Exception {
        setUp(db);
        Listening listening = listen(db, 0, "--workers", "2");
        int port = boundPort();
        await().atMost(AWAIT).until(() -> "UP".equals(get(port, "/health/ready").json().get("status")));
        Answer ready = get(port, "/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.type()).isEqualTo("application/json");
        assertThat(ready.json()).containsEntry("reason", "listening on 1 channel with 2 workers");
        Answer live = get(port, "/health/live");
        assertThat(live.status()).isEqualTo(200);
        assertThat(live.json()).containsEntry("status", "UP");

        for (int n = 0; n < 3; n++) {
            db.execute("SELECT pgpubsub.publish('orders', '{\"n\": " + n + "}')");
        }
        await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 3);
        await().atMost(AWAIT).untilAsserted(() -> assertThat(get(port, "/metrics").body())
                .containsPattern("(?m)^pgpubsub_tasks_succeeded_tasks_total\\{channel=\"orders\"} 3(\\.0)?$"));
        Answer metrics = get(port, "/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.type()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        assertThat(metrics.body()).contains("# TYPE pgpubsub_tasks_succeeded_tasks_total counter")
                .containsPattern("(?m)^pgpubsub_listener_workers_live_threads 2(\\.0)?$")
                .contains("jvm_memory_used_bytes{").contains("process_uptime_seconds ");

        assertThat(get(port, "/health/ready/more").status()).isEqualTo(404);
        assertThat(get(port, "/").status()).isEqualTo(404);
        assertThat(send(port, "/health/ready", "POST").status()).isEqualTo(405);
        assertThat(send(port, "/health/live", "HEAD").status()).isEqualTo(200);

        listening.stop().received("SIGTERM");
        assertThat(listening.code().get(60, TimeUnit.SECONDS)).as(listening.err().toString()).isZero();
        assertThatThrownBy(() -> get(port, "/health/live")).as("the server stops with the process")
                .isInstanceOf(ConnectException.class);
    }

    /**
     * While the server is down, the process answers all along: live 200; ready 503 while the start
     * waits for the database, and 200 (DEGRADED) during an outage within the outage limit once running.
     */
    @Test
    void readyIs503WhileTheStartWaitsForTheDatabaseAndLiveStays200(EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase own = server.createDatabase("cli_http_outage")) {
            setUp(own);
            server.stop();
            Listening listening;
            int port;
            try {
                listening = listen(own, 0, "--outage-limit", "10m");
                port = boundPort();
                await().atMost(AWAIT).until(() -> String.valueOf(get(port, "/health/ready").json().get("reason"))
                        .contains("the database is unreachable"));
                Answer ready = get(port, "/health/ready");
                assertThat(ready.status()).isEqualTo(503);
                assertThat(ready.json()).containsEntry("status", "DOWN");
                assertThat((String) ready.json().get("reason")).startsWith("starting since ");
                assertThat(get(port, "/health/live").status()).isEqualTo(200);
            } finally {
                server.start();
            }
            await().atMost(AWAIT).until(() -> get(port, "/health/ready").status() == 200);

            server.stop();
            try {
                await().atMost(AWAIT).until(() -> "DEGRADED".equals(get(port, "/health/ready").json().get("status")));
                assertThat(get(port, "/health/ready").status()).isEqualTo(200);
                assertThat((String) get(port, "/health/ready").json().get("reason")).contains("LISTEN connection was lost");
                assertThat(get(port, "/health/live").status()).isEqualTo(200);
            } finally {
                server.start();
            }
            await().atMost(AWAIT).until(() -> "UP".equals(get(port, "/health/ready").json().get("status")));
            listening.stop().received("SIGTERM");
            assertThat(listening.code().get(60, TimeUnit.SECONDS)).as(listening.err().toString()).isZero();
        }
    }

    @Test
    void aTakenPortOrABadOneIsABadConfigurationThatNamesIt(TestDatabase db) throws Exception {
        setUp(db);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Listening listening = listen(db, taken.getLocalPort());
            assertThat(listening.code().get(60, TimeUnit.SECONDS)).isEqualTo(ExitCodes.BAD_CONFIGURATION);
            assertThat(listening.err().toString(StandardCharsets.UTF_8)).contains("pgpubsub: Cannot serve HTTP on 127.0.0.1:"
                    + taken.getLocalPort()).contains("another process uses port " + taken.getLocalPort()
                    + ": choose another with --http-port, or stop that process");
        }
        env.put("PGPUBSUB_HTTP_PORT", "70000");
        List<String> args = List.of("listen", "--jdbc-url", db.jdbcUrl(), "--user", db.user(),
                "--handler", TestHandlers.Orders.class.getName());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args.toArray(String[]::new), env, InputStream.nullInputStream(), System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8), StopSignal::new, getClass().getClassLoader());
        assertThat(code).isEqualTo(ExitCodes.BAD_CONFIGURATION);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("pgpubsub: PGPUBSUB_HTTP_PORT is 70000; give a port between 1 and 65535 (or 0 for any free one)");
    }

    /**
     * {@code listen --console}: the console's overview at / on the endpoints' port, with its headers,
     * the endpoints answering as before; refused without --http-port, and on an address other
     * machines reach without a token.
     */
    @Test
    void listenServesTheConsoleBesideTheEndpointsAndRefusesItWithoutAPortOrOnAnOpenAddressWithoutAToken(TestDatabase db)
            throws Exception {
        setUp(db);
        db.execute("SELECT pgpubsub.publish('orders', '{\"n\": 1}', run_at => now() + interval '1 hour')");
        db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        Listening listening = listen(db, 0, "--console", "--heartbeat-interval", "4s");
        int port = boundPort();
        await().atMost(AWAIT).until(() -> get(port, "/health/ready").status() == 200);
        await("a heartbeat row that lives three 4 s intervals").atMost(AWAIT).until(() -> db.strings(
                "SELECT extract(epoch FROM expires_at - beat_at)::int FROM pgpubsub.listener_heartbeat"), List.of("12")::equals);
        HttpResponse<String> overview = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(overview.statusCode()).isEqualTo(200);
        assertThat(overview.headers().firstValue("Content-Security-Policy").orElse("")).contains("default-src 'none'");
        assertThat(overview.body()).contains("orders");
        assertThat(get(port, "/health/live").json()).containsEntry("status", "UP");
        assertThat(get(port, "/metrics").status()).isEqualTo(200);
        assertThat(send(port, "/dead-letters/requeue", "POST").status()).as("read-only without a token").isEqualTo(403);
        listening.stop().received("SIGTERM");
        assertThat(listening.code().get(60, TimeUnit.SECONDS)).as(listening.err().toString()).isZero();

        for (List<String> wrong : List.of(List.of("--console"), List.of("--console", "--http-host", "0.0.0.0",
                "--http-port", "0"), List.of("--console-token-file", "token.txt"), List.of("--heartbeat-interval", "500ms"))) {
            List<String> args = new ArrayList<>(List.of("listen", "--jdbc-url", db.jdbcUrl(), "--user", db.user(),
                    "--handler", TestHandlers.Orders.class.getName()));
            args.addAll(wrong);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.run(args.toArray(String[]::new), Map.of(), InputStream.nullInputStream(), System.out,
                    new PrintStream(err, true, StandardCharsets.UTF_8), StopSignal::new, getClass().getClassLoader());
            assertThat(code).as(wrong.toString()).isEqualTo(ExitCodes.BAD_CONFIGURATION);
            assertThat(err.toString(StandardCharsets.UTF_8)).as(wrong.toString())
                    .containsAnyOf("--console needs --http-port", "is reachable from other machines",
                            "--console-token-file is given without --console", "--heartbeat-interval is PT0.5S");
        }
    }
}
