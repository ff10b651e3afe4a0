package dev.pgpubsub.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.core.internal.Secrets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's HTTP side, on the JDK's own HTTP server: routing, the security headers every answer
 * carries, the parsing of queries and forms, the static files. What each page shows and does is
 * {@link ConsolePages}'s.
 */
final class ConsoleServer implements AutoCloseable {

    /** Threads serving requests; each page holds one database connection while it reads. */
    static final int THREADS = 4;
    /**
     * Pages that may read the database at once on the console's own server: one thread fewer than it
     * has, so that one is always free to answer the rest (static files, the chart, a 503), and one
     * pooled connection is left for the throughput's readings.
     */
    static final int PAGES_AT_ONCE = THREADS - 1;
    /** Requests waiting for a thread; past it the server's own thread serves them, which slows accepting. */
    static final int QUEUE = 64;
    /** The largest form body accepted. */
    static final int MAX_FORM_BYTES = 64 * 1024;
    /** Scripts and styles only from the console's own files; no inline ones, no frames, forms only to itself. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServer.class);
    private static final String STATIC = "/static/";
    private static final Map<String, String> FILES = Map.of("console.css", "text/css; charset=utf-8",
            "console.js", "text/javascript; charset=utf-8");

    /** An answer: status, headers beyond the common ones, body (null for none). */
    record Response(int status, Map<String, String> headers, String type, byte[] body) {
        static Response html(int status, byte[] body) {
            return new Response(status, Map.of(), "text/html; charset=utf-8", body);
        }

        static Response redirect(String location, Map<String, String> more) {
            Map<String, String> headers = new LinkedHashMap<>(more);
            headers.put("Location", location);
            return new Response(303, headers, null, null);
        }
    }

    /** A request, parsed: method, path, query parameters and (for POST) form fields. */
    record Request(HttpExchange exchange, String method, String path, Map<String, List<String>> params) {
        String param(String name) {
            List<String> values = params.get(name);
            return values == null || values.isEmpty() || values.get(0).isBlank() ? null : values.get(0);
        }

        List<String> all(String name) {
            return params.getOrDefault(name, List.of());
        }
    }

    /** A refusal with its status and a message for the operator. */
    static final class Refusal extends RuntimeException {
        final int status;

        Refusal(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final ConsoleAuth auth;
    private final ConsolePages pages;
    private final ConsoleThroughput throughput;
    private final Semaphore gate;
    private final int pagesAtOnce;
    private HttpServer server;
    private ThreadPoolExecutor executor;

    /**
     * A console whose statements stop after {@link ConsoleCommand#STATEMENT_TIMEOUT}.
     *
     * @param pagesAtOnce how many pages may read the database at once: {@link #PAGES_AT_ONCE} when the
     *                    console has its own server, fewer when it shares one ({@link #mounted()})
     */
    ConsoleServer(DataSource dataSource, String schema, String token, int pagesAtOnce) {
        this(dataSource, schema, token, pagesAtOnce, ConsoleCommand.STATEMENT_TIMEOUT);
    }

    /** As above, with {@code statementTimeout} for every statement of the pages and actions. */
    ConsoleServer(DataSource dataSource, String schema, String token, int pagesAtOnce, Duration statementTimeout) {
        this.throughput = new ConsoleThroughput(dataSource, schema);
        this.auth = new ConsoleAuth(token);
        this.pages = new ConsolePages(dataSource, schema, auth, throughput, statementTimeout);
        this.gate = new Semaphore(pagesAtOnce);
        this.pagesAtOnce = pagesAtOnce;
    }

    /**
     * Starts serving.
     *
     * @param address where to listen; port 0 for any free one
     * @return the address bound, with the port chosen
     * @throws IOException when the address cannot be bound
     */
    InetSocketAddress start(InetSocketAddress address) throws IOException {
        server = HttpServer.create(address, 0);
        AtomicInteger count = new AtomicInteger();
        executor = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), body -> {
            Thread t = new Thread(body, "pgpubsub-console-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        server.setExecutor(executor);
        server.createContext("/", handler());
        server.start();
        throughput.start();
        return server.getAddress();
    }

    /**
     * The console's pages as a handler for another server's root ({@code listen --console}, beside
     * its health endpoints); the throughput is sampled from now on, until {@link #close()}.
     */
    HttpHandler mounted() {
        throughput.start();
        return handler();
    }

    private HttpHandler handler() {
        return this::handle;
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            Response response;
            try {
                if (!auth.hostAllowed(exchange)) {
                    throw new Refusal(421, "This console answers to its IP address or localhost, not to "
                            + exchange.getRequestHeaders().getFirst("Host") + ": open it as http://127.0.0.1:"
                            + exchange.getLocalAddress().getPort() + "/ (or give it --console-token-file, and it asks for"
                            + " the token whatever the name)");
                }
                response = route(parse(exchange));
            } catch (Refusal e) {
                response = pages.error(exchange, e.status, e.getMessage());
            } catch (PgPubSubException e) {
                LOG.warn("Console request {} failed: {}", exchange.getRequestURI().getPath(), Secrets.redact(e.getMessage()));
                response = pages.error(exchange, 503, "The database did not answer: " + Secrets.redact(e.getMessage()));
            } catch (RuntimeException e) {
                LOG.error("Console request {} failed", exchange.getRequestURI().getPath(), e);
                response = pages.error(exchange, 500, "Something went wrong; the process log says what.");
            }
            send(exchange, response);
        } catch (IOException e) {
            LOG.debug("Could not answer a console request: {}", e.getMessage());
        }
    }

    private Response route(Request request) throws IOException {
        String path = request.path();
        if (path.startsWith(STATIC) && FILES.containsKey(path.substring(STATIC.length()))) {
            getOnly(request);
            String name = path.substring(STATIC.length());
            try (InputStream in = ConsoleServer.class.getResourceAsStream("console/" + name)) {
                return new Response(200, Map.of("Cache-Control", "no-cache"), FILES.get(name), in.readAllBytes());
            }
        }
        return switch (path) {
            case "/login" -> pages.login(request);
            case "/logout" -> pages.logout(postOnly(request));
            case "/throughput.svg" -> pages.read(getOnly(request));
            case "/dead-letters/requeue", "/dead-letters/purge" -> gated(() -> pages.act(postOnly(request),
                    path.endsWith("requeue") ? ConsolePages.Action.REQUEUE : ConsolePages.Action.PURGE));
            case "/", "/channel", "/listeners", "/dead-letters" -> gated(() -> pages.read(getOnly(request)));
            default -> throw new Refusal(404, "No page at " + path + ": start from the overview.");
        };
    }

    /**
     * Renders a page that reads the database, if fewer than the gate's permits are being rendered;
     * else answers 503 at once. A slow database then holds at most that many threads, whatever the
     * number of requests: beside the health endpoints ({@code listen --console}) the probes keep
     * threads of their own, and the queue of waiting requests drains at the speed of refusals.
     */
    private Response gated(Supplier<Response> page) {
        if (!gate.tryAcquire()) {
            return new Response(503, Map.of("Retry-After", "2"), "text/plain; charset=utf-8",
                    ("The console is busy: " + pagesAtOnce + " of its pages are being read from the database already."
                            + " Reload in a moment.\n").getBytes(StandardCharsets.UTF_8));
        }
        try {
            return page.get();
        } finally {
            gate.release();
        }
    }

    private static Request getOnly(Request request) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            throw new Refusal(405, "This page is read with GET.");
        }
        return request;
    }

    private static Request postOnly(Request request) {
        if (!request.method().equals("POST")) {
            throw new Refusal(405, "This action is a POST, from the console's own forms.");
        }
        return request;
    }

    /** The query's parameters for a GET, the form's fields (only) for a POST. */
    private static Request parse(HttpExchange exchange) throws IOException {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (!exchange.getRequestMethod().equals("POST")) {
            fields(exchange.getRequestURI().getRawQuery(), params);
        } else {
            byte[] body = exchange.getRequestBody().readNBytes(MAX_FORM_BYTES + 1);
            if (body.length > MAX_FORM_BYTES) {
                throw new Refusal(413, "The form is larger than " + MAX_FORM_BYTES + " bytes.");
            }
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (body.length > 0 && (type == null || !type.startsWith("application/x-www-form-urlencoded"))) {
                throw new Refusal(415, "Send the console's forms as application/x-www-form-urlencoded.");
            }
            fields(new String(body, StandardCharsets.UTF_8), params);
        }
        return new Request(exchange, exchange.getRequestMethod(), exchange.getRequestURI().getPath(), params);
    }

    private static void fields(String raw, Map<String, List<String>> into) {
        if (raw == null || raw.isEmpty()) {
            return;
        }
        for (String pair : raw.split("&")) {
            String[] kv = pair.split("=", 2);
            try {
                into.computeIfAbsent(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), k -> new ArrayList<>())
                        .add(kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            } catch (IllegalArgumentException e) {
                throw new Refusal(400, "A parameter is not URL-encoded correctly.");
            }
        }
    }

    private static void send(HttpExchange exchange, Response response) throws IOException {
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Referrer-Policy", "same-origin"); // the forms' Origin is then the console's, not "null"
        headers.set("X-Frame-Options", "DENY");
        headers.set("Cache-Control", "no-store");
        if (response.status() == 429) {
            headers.set("Retry-After", "60");
        }
        if (response.status() == 405) {
            headers.set("Allow", exchange.getRequestURI().getPath().startsWith("/dead-letters/")
                    || exchange.getRequestURI().getPath().equals("/logout") ? "POST" : "GET, HEAD");
        }
        response.headers().forEach(headers::set);
        if (response.type() != null) {
            headers.set("Content-Type", response.type());
        }
        boolean noBody = response.body() == null || exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(response.status(), noBody ? -1 : response.body().length);
        if (!noBody) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(response.body());
            }
        }
    }

    /** Stops answering at once. */
    @Override
    public void close() {
        throughput.close();
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
