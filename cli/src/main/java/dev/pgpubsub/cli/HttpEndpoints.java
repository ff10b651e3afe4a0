package dev.pgpubsub.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.pgpubsub.core.internal.Secrets;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerHealth;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP endpoints of {@code listen --http-port}, on the JDK's own HTTP server:
 * <ul>
 *   <li>{@code /health/live}: 200 unless the process is wedged, i.e. the listener stopped by itself
 *       (the process exits then, unless something holds it) or threads are deadlocked; else 503. A
 *       database outage is no reason: a restart cannot end it.</li>
 *   <li>{@code /health/ready}: 200 while {@link Listener#health()} is UP or DEGRADED, 503 while it is
 *       DOWN (not started yet, waiting for the database at start, stopping, or stopped).</li>
 *   <li>{@code /metrics}: the library's meters and the JVM's, in the Prometheus text format.</li>
 * </ul>
 * Both health answers carry {@code {"status": ..., "reason": ...}} as JSON. Requests are served by
 * {@value #THREADS} threads; every answer is computed without waiting for the database.
 */
final class HttpEndpoints implements AutoCloseable {

    /** Threads serving requests: probes and scrapes are cheap, and never wait for the database. */
    static final int THREADS = 2;
    /** Version 0.0.4 of the Prometheus text format, which {@link PrometheusMeterRegistry#scrape()} writes. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private static final String JSON_TYPE = "application/json";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The body of both health answers. */
    record HealthBody(String status, String reason) {
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private HttpServer server;
    private ExecutorService executor;
    private Listener listener;

    /** The registry, with the JVM's meters bound; the server is not started yet. */
    HttpEndpoints() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        gc.bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Where the listener's meters go ({@code PgPubSubMetrics.of(registry())}), before it is built. */
    PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Starts serving the health of {@code served}.
     *
     * @param address where to listen; port 0 for any free one
     * @return the address bound, with the port chosen
     * @throws IOException when the address cannot be bound (e.g. the port is taken)
     */
    InetSocketAddress start(InetSocketAddress address, Listener served) throws IOException {
        return start(address, served, null);
    }

    /**
     * Starts serving the health of {@code served}, and {@code root} (the console) at every other path.
     *
     * @param address where to listen; port 0 for any free one
     * @param root    what answers the paths that are not the endpoints', or null for a 404
     * @return the address bound, with the port chosen
     * @throws IOException when the address cannot be bound (e.g. the port is taken)
     */
    InetSocketAddress start(InetSocketAddress address, Listener served, HttpHandler root) throws IOException {
        this.listener = served;
        server = HttpServer.create(address, 0);
        AtomicInteger count = new AtomicInteger();
        // The console's pages wait for the database: two more threads, and the console lets at most two pages read at
        // once (it answers 503 at once past that), so that probes always find a thread, and a flood of page requests
        // queued ahead of a probe is worked off at the speed of those refusals.
        executor = Executors.newFixedThreadPool(root == null ? THREADS : THREADS + 2, body -> {
            Thread t = new Thread(body, "pgpubsub-http-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/health/live", exactly("/health/live", this::live));
        server.createContext("/health/ready", exactly("/health/ready", this::ready));
        server.createContext("/metrics", exactly("/metrics", this::metrics));
        server.createContext("/", root != null ? root : exchange -> respond(exchange, 404, "text/plain; charset=utf-8",
                bytes("Not found: try /health/live, /health/ready or /metrics\n")));
        server.start();
        return server.getAddress();
    }

    private void live(HttpExchange exchange) throws IOException {
        String wedged = listener.failure().map(failure -> "the listener stopped by itself: " + listener.health().reason())
                .orElse(null);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] deadlocked = threads.findDeadlockedThreads();
        if (wedged == null && deadlocked != null) {
            wedged = "threads are deadlocked: " + Arrays.stream(threads.getThreadInfo(deadlocked, 0))
                    .filter(Objects::nonNull).map(ThreadInfo::getThreadName).collect(Collectors.joining(", "));
        }
        health(exchange, wedged == null ? 200 : 503, new HealthBody(wedged == null ? "UP" : "DOWN",
                wedged == null ? "the process answers; the listener is " + listener.health().status() : wedged));
    }

    private void ready(HttpExchange exchange) throws IOException {
        ListenerHealth health = listener.health();
        health(exchange, health.status() == ListenerHealth.Status.DOWN ? 503 : 200,
                new HealthBody(health.status().name(), health.reason()));
    }

    private void metrics(HttpExchange exchange) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
        registry.scrape(body);
        respond(exchange, 200, PROMETHEUS_TEXT, body.toByteArray());
    }

    private static void health(HttpExchange exchange, int code, HealthBody body) throws IOException {
        // A driver's message may quote a URL: never show its password.
        HealthBody shown = new HealthBody(body.status(), Secrets.redact(body.reason()));
        respond(exchange, code, JSON_TYPE, JSON.writeValueAsBytes(shown));
    }

    /** Answers only GET and HEAD, and only on {@code path} itself (a context also matches what lies below). */
    private static HttpHandler exactly(String path, HttpHandler handler) {
        return exchange -> {
            String method = exchange.getRequestMethod();
            if (!exchange.getRequestURI().getPath().equals(path)) {
                respond(exchange, 404, "text/plain; charset=utf-8", bytes("Not found\n"));
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", bytes("Use GET or HEAD\n"));
            } else {
                handler.handle(exchange);
            }
        };
    }

    private static void respond(HttpExchange exchange, int code, String contentType, byte[] body) throws IOException {
        try (exchange) {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(code, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Stops answering at once (probes see connection refused, as for a process that is gone) and frees the meters. */
    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
        gc.close();
        registry.close();
    }
}
