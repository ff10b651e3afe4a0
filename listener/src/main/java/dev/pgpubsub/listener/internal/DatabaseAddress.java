package dev.pgpubsub.listener.internal;

import dev.pgpubsub.core.internal.Secrets;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Where the database is, read from a standard {@code jdbc:postgresql:} URL or a pgjdbc-ng
 * {@code jdbc:pgsql:} URL, so that the LISTEN connection (always pgjdbc-ng) can be built from
 * either: every host of a multi-host URL, in order, and the URL's settings, TLS among them.
 *
 * @param hosts      the URL's hosts, in order (one at least)
 * @param database   the database name
 * @param parameters the URL's query parameters (user and password among them, if given)
 */
public record DatabaseAddress(List<Host> hosts, String database, Map<String, String> parameters) {

    /**
     * One host of the URL.
     *
     * @param host the host name or address
     * @param port its port
     */
    public record Host(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** The standard driver's TLS settings, and pgjdbc-ng's name for each. */
    private static final Map<String, String> TLS_SETTINGS = Map.of(
            "sslmode", "ssl.mode",
            "sslrootcert", "ssl.ca.certificate.file",
            "sslcert", "ssl.certificate.file",
            "sslkey", "ssl.key.file",
            "sslpassword", "ssl.key.password");

    /** The first host. */
    public String host() {
        return hosts.get(0).host();
    }

    /** The first host's port. */
    public int port() {
        return hosts.get(0).port();
    }

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
            throw new IllegalArgumentException("JDBC URL '" + Secrets.redact(url) + "' is not a Postgres URL: give e.g. "
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
        List<Host> hosts = new ArrayList<>();
        String database;
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
            int slash = rest.indexOf('/');
            String hostPorts = slash < 0 ? rest : rest.substring(0, slash);
            database = slash < 0 ? "" : rest.substring(slash + 1);
            for (String hostPort : hostPorts.split(",")) {
                hosts.add(host(url, hostPort));
            }
        } else {
            database = rest;
            hosts.add(new Host("localhost", 5432));
        }
        if (database.isEmpty()) {
            throw new IllegalArgumentException("JDBC URL '" + Secrets.redact(url) + "' names no database: give e.g. "
                    + "jdbc:postgresql://localhost:5432/mydb");
        }
        DatabaseAddress address = new DatabaseAddress(List.copyOf(hosts), decode(database), Map.copyOf(params));
        address.listenProperties(null, null); // refuses an unknown sslmode now, not at the first connection
        return address;
    }

    private static Host host(String url, String hostPort) {
        String host = "localhost";
        int port = 5432;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("JDBC URL '" + Secrets.redact(url) + "' has host '" + hostPort
                        + "' with no closing ']': write an IPv6 address as [::1]:5432");
            }
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
        return new Host(host, port);
    }

    /**
     * Whether the URL asks for TLS: the standard driver's {@code sslmode} of {@code require},
     * {@code verify-ca} or {@code verify-full}, or {@code ssl=true}, or pgjdbc-ng's {@code ssl.mode}
     * of the same.
     */
    public boolean requiresTls() {
        String mode = tlsMode();
        return mode != null && (mode.equals("require") || mode.startsWith("verify"));
    }

    /** The TLS mode asked for, lower case with dashes (verify-full), or null for none. */
    private String tlsMode() {
        String mode = parameters.get("sslmode");
        if (mode == null) {
            mode = parameters.get("ssl.mode");
        }
        if (mode == null && "true".equalsIgnoreCase(parameters.get("ssl"))) {
            return "verify-full"; // the standard driver's meaning of ssl=true
        }
        return mode == null ? null : mode.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The settings of the LISTEN connection to {@code host}: the user, the password, and the TLS
     * settings of the URL given in either driver's names, in pgjdbc-ng's.
     *
     * @param user     the user, or null for the URL's
     * @param password the password, or null for the URL's
     * @return the connection properties
     */
    public Properties listenProperties(String user, String password) {
        Properties props = new Properties();
        String u = user != null ? user : parameters.get("user");
        String p = password != null ? password : parameters.get("password");
        if (u != null) {
            props.setProperty("user", u);
        }
        if (p != null) {
            props.setProperty("password", p);
        }
        parameters.forEach((key, value) -> {
            if (TLS_SETTINGS.containsValue(key)) {
                props.setProperty(key, value);
            }
        });
        TLS_SETTINGS.forEach((standard, ng) -> {
            String value = parameters.get(standard);
            if (value != null) {
                props.setProperty(ng, value);
            }
        });
        String mode = tlsMode();
        if (mode != null) {
            props.setProperty("ssl.mode", switch (mode) {
                case "disable" -> "Disable";
                case "allow" -> "Allow";
                case "prefer" -> "Prefer";
                case "require" -> "Require";
                case "verify-ca" -> "VerifyCa";
                case "verify-full" -> "VerifyFull";
                default -> throw new IllegalArgumentException("sslmode '" + mode + "' is not one of disable, allow, prefer, "
                        + "require, verify-ca, verify-full");
            });
        }
        return props;
    }

    /** A pgjdbc-ng URL for {@code host} of this address, without credentials or other parameters. */
    public String pgjdbcNgUrl(Host host) {
        return "jdbc:pgsql://" + host + "/" + database;
    }

    private static int port(String url, String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("JDBC URL '" + Secrets.redact(url) + "' has port '" + text + "', which is not a number");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
