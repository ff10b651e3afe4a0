package dev.pgpubsub.cli;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;
import com.sun.net.httpserver.HttpExchange;
import dev.pgpubsub.cli.ConsoleServer.Refusal;
import dev.pgpubsub.cli.ConsoleServer.Request;
import dev.pgpubsub.cli.ConsoleServer.Response;
import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.internal.Installation;
import java.io.StringWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's pages and actions. Every value reaches the HTML through a Mustache template, which
 * escapes it: payloads, errors, keys and channel names are whatever publishers and handlers wrote.
 */
final class ConsolePages {

    private static final Logger LOG = LoggerFactory.getLogger(ConsolePages.class);

    /** What a POST on the dead letters does. */
    enum Action {
        REQUEUE("re-queue", "re-queued"), PURGE("purge", "purged");

        final String verb;
        final String done;

        Action(String verb, String done) {
            this.verb = verb;
            this.done = done;
        }
    }

    /** The most dead letters one action takes. */
    static final int MAX_IDS = 1_000;

    /** A channel in the dead-letter filter. */
    record ChannelOption(String name, boolean selected) {
    }

    private final Installation installation;
    private final ConsoleQueries queries;
    private final ConsoleListeners listeners;
    private final ConsoleThroughput throughput;
    private final DeadLetters deadLetters;
    private final ConsoleAuth auth;
    private final MustacheFactory templates = new DefaultMustacheFactory("dev/pgpubsub/cli/console");
    private final Map<String, Mustache> compiled = new ConcurrentHashMap<>();

    /** @param statementTimeout how long any statement of a page or an action may run */
    ConsolePages(DataSource dataSource, String schema, ConsoleAuth auth, ConsoleThroughput throughput,
            Duration statementTimeout) {
        this.installation = new Installation(dataSource, schema).withStatementTimeout(statementTimeout);
        this.queries = new ConsoleQueries(schema, statementTimeout);
        this.listeners = new ConsoleListeners(schema);
        this.throughput = throughput;
        this.deadLetters = DeadLetters.of(dataSource, schema).withStatementTimeout(statementTimeout);
        this.auth = auth;
    }

    /** A read-only page: the overview, a channel, the listeners, the dead letters, the throughput chart. */
    Response read(Request request) {
        if (!auth.mayRead(request.exchange())) {
            return Response.redirect("/login", Map.of());
        }
        return switch (request.path()) {
            case "/" -> overview(request);
            case "/channel" -> channel(request);
            case "/listeners" -> listeners(request);
            case "/throughput.svg" -> new Response(200, Map.of(), "image/svg+xml; charset=utf-8",
                    throughput.svg().getBytes(StandardCharsets.UTF_8));
            default -> deadLetters(request);
        };
    }

    private Response overview(Request request) {
        long deadline = System.currentTimeMillis() + ConsoleQueries.OVERVIEW_DEADLINE.toMillis();
        ConsoleQueries.Overview overview = read(c -> queries.overview(c, deadline));
        Map<String, Object> scope = scope(request.exchange(), "Overview");
        scope.put("channels", overview.channels());
        scope.put("empty", overview.channels().isEmpty());
        scope.put("cut", overview.cut());
        scope.put("cap", String.format(Locale.ROOT, "%,d", ConsoleQueries.COUNT_CAP));
        return page(200, "overview", scope);
    }

    private Response listeners(Request request) {
        List<ConsoleListeners.ListenerRow> rows = read(listeners::listeners);
        Map<String, Object> scope = scope(request.exchange(), "Listeners");
        scope.put("listeners", rows);
        scope.put("empty", rows.isEmpty());
        return page(200, "listeners", scope);
    }

    private Response channel(Request request) {
        String name = request.param("name");
        if (name == null) {
            throw new Refusal(400, "Name the channel: /channel?name=orders");
        }
        OffsetDateTime afterAt = time(request.param("after_at"));
        long afterId = id(request.param("after_id"), afterAt != null);
        List<ConsoleQueries.TaskRow> rows = read(c -> queries.tasks(c, name, afterAt, afterId));
        Map<String, Object> scope = scope(request.exchange(), "Channel " + name);
        scope.put("channel", name);
        scope.put("deadLink", "/dead-letters?channel=" + url(name));
        scope.put("rows", rows.subList(0, Math.min(rows.size(), ConsoleQueries.PAGE)));
        scope.put("empty", rows.isEmpty());
        if (rows.size() > ConsoleQueries.PAGE) {
            ConsoleQueries.TaskRow last = rows.get(ConsoleQueries.PAGE - 1);
            scope.put("next", "/channel?name=" + url(name) + "&after_at=" + url(last.cursorAt()) + "&after_id=" + last.id());
        }
        return page(200, "channel", scope);
    }

    private Response deadLetters(Request request) {
        String channel = request.param("channel");
        String reason = request.param("reason");
        OffsetDateTime beforeAt = time(request.param("before_at"));
        long beforeId = id(request.param("before_id"), beforeAt != null);
        record Listing(List<ConsoleQueries.DeadRow> rows, List<String> channels) {
        }
        Listing got = read(c -> new Listing(queries.deadLetters(c, channel, reason, beforeAt, beforeId), queries.channels(c)));
        List<ConsoleQueries.DeadRow> rows = got.rows();
        List<String> channels = got.channels();
        Map<String, Object> scope = scope(request.exchange(), "Dead letters");
        scope.put("filterChannel", channel == null ? "" : channel);
        scope.put("filterReason", reason == null ? "" : reason);
        scope.put("channelOptions", channels.stream().map(name -> new ChannelOption(name, name.equals(channel))).toList());
        scope.put("rows", rows.subList(0, Math.min(rows.size(), ConsoleQueries.PAGE)));
        scope.put("empty", rows.isEmpty());
        String filter = filterQuery(channel, reason);
        if (rows.size() > ConsoleQueries.PAGE) {
            ConsoleQueries.DeadRow last = rows.get(ConsoleQueries.PAGE - 1);
            scope.put("next", "/dead-letters?" + filter + "before_at=" + url(last.cursorAt()) + "&before_id=" + last.id());
        }
        if (beforeAt != null) {
            scope.put("first", "/dead-letters?" + filter);
        }
        String done = request.param("done");
        String count = request.param("count");
        if (done != null && count != null && count.matches("\\d{1,9}")) {
            for (Action action : Action.values()) {
                if (action.done.equals(done)) {
                    scope.put("message", count + " dead letter(s) " + action.done + ".");
                }
            }
        }
        return page(200, "dead_letters", scope);
    }

    /**
     * Re-queues or purges the dead letters chosen: first a confirmation page, then, when the form
     * comes back with {@code confirm=yes}, the action itself, through {@link DeadLetters}.
     */
    Response act(Request request, Action action) {
        if (!auth.actionsEnabled()) {
            throw new Refusal(403, "The console is read-only: start it with --console-token-file FILE to "
                    + action.verb + " dead letters.");
        }
        if (!auth.mayAct(request.exchange())) {
            throw new Refusal(403, "Log in first: /login");
        }
        checkForm(request);
        List<String> chosen = request.param("one") != null ? List.of(request.param("one")) : request.all("id");
        if (chosen.isEmpty()) {
            throw new Refusal(400, "Select at least one dead letter to " + action.verb + ".");
        }
        if (chosen.size() > MAX_IDS) {
            throw new Refusal(400, "At most " + MAX_IDS + " dead letters at a time; " + chosen.size() + " were selected.");
        }
        long[] ids = chosen.stream().mapToLong(value -> id(value, true)).toArray();
        String channel = request.param("channel");
        String reason = request.param("reason");
        if (!"yes".equals(request.param("confirm"))) {
            Map<String, Object> scope = scope(request.exchange(), "Confirm: " + action.verb);
            scope.put("question", (action == Action.PURGE ? "Delete for good " : "Re-queue ") + ids.length
                    + " dead letter(s)?");
            scope.put("ids", chosen);
            scope.put("action", "/dead-letters/" + (action == Action.PURGE ? "purge" : "requeue"));
            scope.put("verb", action == Action.PURGE ? "Purge " + ids.length : "Re-queue " + ids.length);
            scope.put("filterChannel", channel == null ? "" : channel);
            scope.put("filterReason", reason == null ? "" : reason);
            scope.put("back", "/dead-letters?" + filterQuery(channel, reason));
            return page(200, "confirm", scope);
        }
        int done = action == Action.REQUEUE ? deadLetters.requeue(ids) : deadLetters.purge(ids);
        LOG.info("Console: {} dead letter(s) {} (of {} selected: {}), from {}", done, action.done, ids.length,
                ids.length <= 20 ? Arrays.toString(ids) : ids.length + " ids", client(request));
        return Response.redirect("/dead-letters?" + filterQuery(channel, reason) + "done=" + action.done + "&count=" + done,
                Map.of());
    }

    /** The login form (GET) or its answer (POST): a session cookie for the right token. */
    Response login(Request request) {
        Map<String, Object> scope = scope(request.exchange(), "Log in");
        if (!auth.actionsEnabled()) {
            scope.put("message", "No token is configured: the console is read-only and needs no login.");
            return page(200, "login", scope);
        }
        if (request.method().equals("POST")) {
            checkForm(request);
            String[] session = new String[1];
            ConsoleAuth.Login outcome = auth.login(client(request), request.param("token"), id -> session[0] = id);
            LOG.info("Console: login {} from {}", outcome == ConsoleAuth.Login.OK ? "succeeded"
                    : outcome == ConsoleAuth.Login.THROTTLED ? "refused (throttled)" : "failed (wrong token)", client(request));
            if (outcome == ConsoleAuth.Login.OK) {
                return Response.redirect("/", Map.of("Set-Cookie", ConsoleAuth.COOKIE + "=" + session[0]
                        + ConsoleAuth.cookieAttributes(request.exchange()) + "; Max-Age=" + ConsoleAuth.SESSION.toSeconds()));
            }
            if (outcome == ConsoleAuth.Login.THROTTLED) {
                scope.put("message", "Too many wrong tokens from this address in the last minute: try again in a minute.");
                return page(429, "login", scope);
            }
            scope.put("message", "That is not the console's token.");
            return page(403, "login", scope);
        }
        return page(200, "login", scope);
    }

    /** Ends the session. */
    Response logout(Request request) {
        checkForm(request);
        auth.logout(request.exchange());
        return Response.redirect("/login", Map.of("Set-Cookie", ConsoleAuth.COOKIE + "="
                + ConsoleAuth.cookieAttributes(request.exchange()) + "; Max-Age=0"));
    }

    /** A page saying what went wrong. */
    Response error(HttpExchange exchange, int status, String message) {
        Map<String, Object> scope = scope(exchange, status == 404 ? "Not found" : "Refused");
        scope.put("message", message);
        return page(status, "error", scope);
    }

    private void checkForm(Request request) {
        if (!ConsoleAuth.sameOrigin(request.exchange()) || !auth.csrfValid(request.exchange(), request.param("csrf"))) {
            throw new Refusal(403, "This form did not come from this console (its CSRF token is missing or stale): "
                    + "reload the page and try again.");
        }
    }

    private Map<String, Object> scope(HttpExchange exchange, String title) {
        Map<String, Object> scope = new HashMap<>();
        scope.put("title", title);
        scope.put("csrf", auth.csrf(exchange));
        scope.put("actions", auth.mayAct(exchange));
        scope.put("readOnly", !auth.actionsEnabled());
        scope.put("loggedIn", auth.mayAct(exchange));
        return scope;
    }

    private Response page(int status, String template, Map<String, Object> scope) {
        Mustache mustache = compiled.computeIfAbsent(template, name -> templates.compile(name + ".mustache"));
        StringWriter out = new StringWriter();
        mustache.execute(out, scope);
        return Response.html(status, out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Runs the page's queries in one read-only transaction, each statement bounded by the statement timeout. */
    private <T> T read(Installation.Work<T> work) {
        return installation.inTransaction("read the console's page", "Check that the database is up and that the "
                + "console's role may read the schema (docs/console.md, The database role).", c -> {
                    try (Statement s = c.createStatement()) {
                        s.execute("SET TRANSACTION READ ONLY");
                    }
                    return work.run(c);
                });
    }

    /** The address the request came from. */
    private static String client(Request request) {
        return request.exchange().getRemoteAddress().getAddress().getHostAddress();
    }

    private static String filterQuery(String channel, String reason) {
        return (channel == null ? "" : "channel=" + url(channel) + "&") + (reason == null ? "" : "reason=" + url(reason) + "&");
    }

    private static OffsetDateTime time(String value) {
        try {
            return value == null ? null : OffsetDateTime.parse(value);
        } catch (DateTimeParseException e) {
            throw new Refusal(400, "Not a time: " + value);
        }
    }

    private static long id(String value, boolean required) {
        if (value == null) {
            if (required) {
                throw new Refusal(400, "A task id is missing.");
            }
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new Refusal(400, "Not a task id: " + value);
        }
    }

    static String url(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
