package dev.pgpubsub.cli;

import com.sun.net.httpserver.HttpExchange;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who may act in the console. Without a token configured nobody may: the console is read-only and
 * open to whoever reaches its address (loopback only, which {@link ConsoleCommand} enforces, and only
 * under an IP address or {@code localhost}, which {@link #hostAllowed} enforces against DNS rebinding).
 * With one, every page but the login form asks for it once per browser session (a random session id
 * in an HttpOnly, SameSite=Strict cookie), and requeue and purge are allowed. Wrong tokens are
 * throttled per client address: after {@value #MAX_FAILED_LOGINS} in a minute from one address, its
 * logins are refused until the minute is over (other addresses are not held up).
 * <p>
 * Every POST carries a CSRF token (a hidden field, compared in constant time): an HMAC of the session
 * id under a key of this process, so a token is worth nothing without its session's cookie (the login
 * form's is an HMAC of a constant). When the browser says where a POST comes from (Sec-Fetch-Site,
 * else Origin), it must be the console itself; an {@code Origin: null} is refused.
 */
final class ConsoleAuth {

    /** The cookie holding the session id. */
    static final String COOKIE = "pgpubsub_console";
    /** How long a login lasts. */
    static final Duration SESSION = Duration.ofHours(12);
    /** The most sessions kept; past it the oldest is forgotten (its browser logs in again). */
    static final int MAX_SESSIONS = 100;
    /** The shortest token accepted: it must not be guessable by trying. */
    static final int MIN_TOKEN_LENGTH = 16;
    /** Wrong tokens accepted per minute from one address; past it its logins are refused for the rest of the minute. */
    static final int MAX_FAILED_LOGINS = 10;
    /** Addresses whose failures are remembered at most; past it the one least recently seen is forgotten. */
    static final int MAX_CLIENTS = 1_000;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final byte[] token;
    private final byte[] csrfKey = new byte[32];
    private final Map<String, Instant> sessions = new ConcurrentHashMap<>();
    private final Map<String, ArrayDeque<Instant>> failedLogins = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ArrayDeque<Instant>> eldest) {
            return size() > MAX_CLIENTS;
        }
    };

    /** @param token the operators' token, or null for a read-only console */
    ConsoleAuth(String token) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        RANDOM.nextBytes(csrfKey);
    }

    /** Whether a token is configured, i.e. whether requeue and purge exist at all. */
    boolean actionsEnabled() {
        return token != null;
    }

    /** The CSRF token for the forms of the request's pages: its session's, or the login form's without one. */
    String csrf(HttpExchange exchange) {
        return hmac(session(exchange).map(id -> "session " + id).orElse("login"));
    }

    /** Whether {@code given} is the CSRF token of the request's session (or of the login form, without one). */
    boolean csrfValid(HttpExchange exchange, String given) {
        return given != null && MessageDigest.isEqual(csrf(exchange).getBytes(StandardCharsets.UTF_8),
                given.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Whether the browser says the request comes from a page of the console: Sec-Fetch-Site, when
     * sent, is same-origin; else Origin, when sent, names the console's own host (an opaque
     * {@code null} origin is refused). Clients that send neither (not browsers) still need the CSRF
     * token, and a session.
     */
    static boolean sameOrigin(HttpExchange exchange) {
        String site = exchange.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if (site != null) {
            return site.equals("same-origin");
        }
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        String host = exchange.getRequestHeaders().getFirst("Host");
        return origin == null || host != null && (origin.equals("http://" + host) || origin.equals("https://" + host));
    }

    /**
     * Whether the request's Host may be answered. With a token, any: a page of another site's name
     * has no session cookie. Without one, only an IP address or {@code localhost}: a page of another
     * site whose name was pointed at this machine (DNS rebinding) must not read a read-only console
     * that asks for nothing.
     */
    boolean hostAllowed(HttpExchange exchange) {
        String host = exchange.getRequestHeaders().getFirst("Host");
        if (token != null || host == null) {
            return true;
        }
        String name = host.startsWith("[") ? host.substring(0, Math.max(1, host.indexOf(']') + 1))
                : host.lastIndexOf(':') >= 0 ? host.substring(0, host.lastIndexOf(':')) : host;
        name = name.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1); // the fully qualified form of the same name
        }
        return name.startsWith("[") || IPV4.matcher(name).matches() || name.equals("localhost")
                || name.endsWith(".localhost");
    }

    /** Whether the request may see the pages: always without a token, else with a live session. */
    boolean mayRead(HttpExchange exchange) {
        return token == null || session(exchange).isPresent();
    }

    /** Whether the request may requeue and purge: a token is configured and the request has a live session. */
    boolean mayAct(HttpExchange exchange) {
        return token != null && session(exchange).isPresent();
    }

    /** What a login attempt came to. */
    enum Login {
        /** The token was right: a session was started. */
        OK,
        /** The token was wrong. */
        WRONG,
        /** Too many wrong tokens in the last minute: not even checked. */
        THROTTLED
    }

    /**
     * Starts a session when {@code given} is the token (compared in constant time), unless
     * {@value #MAX_FAILED_LOGINS} wrong ones came from {@code client} in the last minute.
     *
     * @param client  the address the attempt came from
     * @param session receives the session id for the cookie, on {@link Login#OK}
     * @return what came of it; WRONG too when no token is configured
     */
    Login login(String client, String given, Consumer<String> session) {
        Instant now = Instant.now();
        synchronized (failedLogins) {
            ArrayDeque<Instant> failures = failedLogins.computeIfAbsent(client, c -> new ArrayDeque<>());
            while (!failures.isEmpty() && failures.peekFirst().isBefore(now.minus(Duration.ofMinutes(1)))) {
                failures.removeFirst();
            }
            if (failures.size() >= MAX_FAILED_LOGINS) {
                return Login.THROTTLED;
            }
            if (token == null || given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
                failures.addLast(now);
                return Login.WRONG;
            }
            if (failures.isEmpty()) {
                failedLogins.remove(client);
            }
        }
        sessions.values().removeIf(expiry -> expiry.isBefore(now));
        while (sessions.size() >= MAX_SESSIONS) {
            sessions.entrySet().stream().min(Map.Entry.comparingByValue(Comparator.naturalOrder()))
                    .ifPresent(oldest -> sessions.remove(oldest.getKey()));
        }
        String id = random();
        sessions.put(id, now.plus(SESSION));
        session.accept(id);
        return Login.OK;
    }

    /** Ends the request's session, if it has one. */
    void logout(HttpExchange exchange) {
        session(exchange).ifPresent(sessions::remove);
    }

    /**
     * The attributes of the session cookie: {@code Secure} too when the request reached a proxy over
     * HTTPS (it says so in {@code X-Forwarded-Proto}), so that the browser never sends it in clear.
     */
    static String cookieAttributes(HttpExchange exchange) {
        String proto = exchange.getRequestHeaders().getFirst("X-Forwarded-Proto");
        return "; Path=/; HttpOnly; SameSite=Strict" + ("https".equalsIgnoreCase(proto) ? "; Secure" : "");
    }

    private Optional<String> session(HttpExchange exchange) {
        for (String header : exchange.getRequestHeaders().getOrDefault("Cookie", List.of())) {
            for (String cookie : header.split(";")) {
                String[] pair = cookie.trim().split("=", 2);
                if (pair.length == 2 && pair[0].equals(COOKIE)) {
                    Instant expiry = sessions.get(pair[1]);
                    if (expiry != null && expiry.isAfter(Instant.now())) {
                        return Optional.of(pair[1]);
                    }
                }
            }
        }
        return Optional.empty();
    }

    private String hmac(String value) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(csrfKey, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
