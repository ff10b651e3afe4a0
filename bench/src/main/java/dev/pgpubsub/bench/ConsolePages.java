package dev.pgpubsub.bench;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The console's pages on a large table of dead letters: {@code bin/pgpubsub console} in a JVM of its
 * own (as an operator runs it), asked for a page over loopback HTTP, one request at a time; the time
 * from the request to the last byte of the page.
 */
final class ConsolePages {

    private ConsolePages() {
    }

    /** {@code n} dead letters on two channels, each with an error history, dead one second apart. */
    static void seedDeadLetters(TestDatabase db, long n) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, errors, reason, dead_at) "
                + "SELECT g, CASE WHEN g % 2 = 0 THEN 'orders' ELSE 'invoices' END, jsonb_build_object('order', g, "
                + "'note', repeat('x', 100)), now() - interval '2 days', 3, jsonb_build_array(jsonb_build_object("
                + "'attempt', 3, 'at', now(), 'error', 'IllegalStateException: payment service answered 503 for order ' || g)), "
                + "'failed 3 of 3 attempts', now() - g * interval '1 second' FROM generate_series(1, " + n + ") g");
        db.execute("VACUUM ANALYZE pgpubsub.dead_letter");
    }

    /**
     * Times each of {@code paths} {@code requests} times (after as many unrecorded warm-up requests),
     * against a console started on {@code db}.
     *
     * @return per path, the request times in milliseconds
     */
    static List<List<Double>> time(TestDatabase db, List<String> paths, int requests) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path log = Files.createTempFile("pgpubsub-console-bench", ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "dev.pgpubsub.cli.Main", "console", "--jdbc-url", db.jdbcUrl(), "--user", db.user(),
                "--http-port", Integer.toString(port)).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("PGPUBSUB_"));
        if (!db.password().isEmpty()) {
            builder.environment().put("PGPUBSUB_PASSWORD", db.password());
        }
        Process console = builder.start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try {
            awaitUp(http, port, console, log);
            List<List<Double>> times = new ArrayList<>();
            for (String path : paths) {
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(30)).build();
                List<Double> millis = new ArrayList<>();
                for (int i = 0; i < 2 * requests; i++) {
                    long start = System.nanoTime();
                    HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    double took = (System.nanoTime() - start) / 1e6;
                    if (response.statusCode() != 200 || response.body().length < 1_000) {
                        throw new IllegalStateException("GET " + path + " answered " + response.statusCode());
                    }
                    if (i >= requests) {
                        millis.add(took);
                    }
                }
                times.add(millis);
            }
            return times;
        } finally {
            console.destroy();
            if (!console.waitFor(30, TimeUnit.SECONDS)) {
                console.destroyForcibly();
            }
            Files.deleteIfExists(log);
        }
    }

    private static void awaitUp(HttpClient http, int port, Process console, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        HttpRequest overview = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(5)).build();
        while (System.nanoTime() < deadline) {
            if (!console.isAlive()) {
                throw new IllegalStateException("The console exited (" + console.exitValue() + "): " + Files.readString(log));
            }
            try {
                if (http.send(overview, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100); // polling a child process's port: nothing to await on
        }
        throw new IllegalStateException("The console did not answer within 60 s: " + Files.readString(log));
    }
}
