package dev.pgpubsub.listener.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the database is, read from a standard {@code jdbc:postgresql:} URL or a pgjdbc-ng
 * {@code jdbc:pgsql:} URL, so that the LISTEN connection (always pgjdbc-ng) can be built from
 * either.
 *
 * @param host       the first host of the URL
 * @param port       its port
 * @param database   the database name
 * @param parameters the URL's query parameters (user and password among them, if given)
 */
public record DatabaseAddress(String host, int port, String database, Map<String, String> parameters) {

    /** Parses {@code url}; throws naming the URL and the expected form when it is not one of ours. */
    public static DatabaseAddress parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("The JDBC URL is empty: give e.g. jdbc:postgresql://localhost:5432/mydb");
        }
        String rest;
        if (url.startsWith("jdbc:postgresql:")) {
            rest = url.substring("jdbc:postgresql:".length());
        } else if (url.startsWith("jdbc:pgsql:")) {
            rest = url.substring("jdbc:pgsql:".length());
        } else {
            throw new IllegalArgumentException("JDBC URL '" + redact(url) + "' is not a Postgres URL: give e.g. "
                    + "jdbc:postgresql://localhost:5432/mydb (or jdbc:pgsql://localhost:5432/mydb)");
        }
        Map<String, String> params = new LinkedHashMap<>();
        int query = rest.indexOf('?');
        if (query >= 0) {
            for (String pair : rest.substring(query + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                params.put(key, eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
            rest = rest.substring(0, query);
        }
        String host = "localhost";
        int port = 5432;
        String database;
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
            int slash = rest.indexOf('/');
            String hostPort = slash < 0 ? rest : rest.substring(0, slash);
            database = slash < 0 ? "" : rest.substring(slash + 1);
            hostPort = hostPort.split(",")[0];
            if (hostPort.startsWith("[")) {
                int close = hostPort.indexOf(']');
                host = hostPort.substring(1, close);
                if (hostPort.length() > close + 2 && hostPort.charAt(close + 1) == ':') {
                    port = port(url, hostPort.substring(close + 2));
                }
            } else if (!hostPort.isEmpty()) {
                int colon = hostPort.lastIndexOf(':');
                host = colon < 0 ? hostPort : hostPort.substring(0, colon);
                if (colon >= 0) {
                    port = port(url, hostPort.substring(colon + 1));
                }
            }
        } else {
            database = rest;
        }
        if (database.isEmpty()) {
            throw new IllegalArgumentException("JDBC URL '" + redact(url) + "' names no database: give e.g. "
                    + "jdbc:postgresql://localhost:5432/mydb");
        }
        return new DatabaseAddress(host, port, decode(database), Map.copyOf(params));
    }

    /** A pgjdbc-ng URL for this address, without credentials or other parameters. */
    public String pgjdbcNgUrl() {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return "jdbc:pgsql://" + h + ":" + port + "/" + database;
    }

    /** The URL with any password parameter masked, for messages. */
    public static String redact(String url) {
        return url == null ? null : url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    private static int port(String url, String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("JDBC URL '" + redact(url) + "' has port '" + text + "', which is not a number");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
