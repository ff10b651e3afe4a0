package dev.pgpubsub.cli;

import com.sun.net.httpserver.HttpExchange;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may act in the console. Without a token configured nobody may: the console is read-only and
 * open to whoever reaches its address (loopback only, which {@link ConsoleCommand} enforces). With
 * one, every page but the login form asks for it once per browser session (a random session id in
 * an HttpOnly, SameSite=Strict cookie), and requeue and purge are allowed.
 * <p>
 * Every POST also carries this process's CSRF token (a hidden field, compared in constant time) and,
 * when the browser says where it comes from (Origin, Sec-Fetch-Site), must come from the console itself.
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

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] token;
    private final String csrf = random();
    private final Map<String, Instant> sessions = new ConcurrentHashMap<>();

    /** @param token the operators' token, or null for a read-only console */
    ConsoleAuth(String token) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether a token is configured, i.e. whether requeue and purge exist at all. */
    boolean actionsEnabled() {
        return token != null;
    }

    /** The CSRF token of this process, for the hidden field of every form. */
    String csrf() {
        return csrf;
    }

    /** Whether {@code given} is this process's CSRF token. */
    boolean csrfValid(String given) {
        return given != null && MessageDigest.isEqual(csrf.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Whether the browser says the request comes from a page of the console: Sec-Fetch-Site, when
     * sent, is same-origin; else Origin, when sent and not "null", names the console's own host. (The
     * pages' Referrer-Policy no-referrer makes browsers send Origin "null" on their own forms.) Clients
     * that send neither (not browsers) still need the CSRF token.
     */
    static boolean sameOrigin(HttpExchange exchange) {
        String site = exchange.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if (site != null) {
            return site.equals("same-origin");
        }
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        String host = exchange.getRequestHeaders().getFirst("Host");
        return origin == null || origin.equals("null") || origin.equals("http://" + host);
    }

    /** Whether the request may see the pages: always without a token, else with a live session. */
    boolean mayRead(HttpExchange exchange) {
        return token == null || session(exchange).isPresent();
    }

    /** Whether the request may requeue and purge: a token is configured and the request has a live session. */
    boolean mayAct(HttpExchange exchange) {
        return token != null && session(exchange).isPresent();
    }

    /**
     * Starts a session when {@code given} is the token (compared in constant time).
     *
     * @return the session id for the cookie, or empty when the token is wrong or none is configured
     */
    Optional<String> login(String given) {
        if (token == null || given == null || !MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8))) {
            return Optional.empty();
        }
        Instant now = Instant.now();
        sessions.values().removeIf(expiry -> expiry.isBefore(now));
        while (sessions.size() >= MAX_SESSIONS) {
            sessions.entrySet().stream().min(Map.Entry.comparingByValue(Comparator.naturalOrder()))
                    .ifPresent(oldest -> sessions.remove(oldest.getKey()));
        }
        String id = random();
        sessions.put(id, now.plus(SESSION));
        return Optional.of(id);
    }

    /** Ends the request's session, if it has one. */
    void logout(HttpExchange exchange) {
        session(exchange).ifPresent(sessions::remove);
    }

    private Optional<String> session(HttpExchange exchange) {
        for (String header : exchange.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
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

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
