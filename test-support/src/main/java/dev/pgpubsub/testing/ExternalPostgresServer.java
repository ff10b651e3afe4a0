package dev.pgpubsub.testing;

import java.util.Properties;

/** A server this JVM did not start, named by a JDBC URL; closing it leaves it running. */
final class ExternalPostgresServer implements PostgresServer {

    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final String password;

    private ExternalPostgresServer(String host, int port, String database, String user, String password) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.user = user;
        this.password = password;
    }

    /**
     * Reads host, port, database, user and password from a {@code jdbc:postgresql:} URL, e.g.
     * {@code jdbc:postgresql://localhost:5432/postgres?user=postgres&password=secret}.
     */
    static ExternalPostgresServer fromUrl(String url) {
        Properties props = org.postgresql.Driver.parseURL(url, new Properties());
        if (props == null) {
            throw new IllegalArgumentException("Not a jdbc:postgresql: URL: '" + url
                    + "'. Expected e.g. jdbc:postgresql://localhost:5432/postgres?user=postgres&password=secret");
        }
        String host = props.getProperty("PGHOST", "localhost").split(",")[0];
        int port = Integer.parseInt(props.getProperty("PGPORT", "5432").split(",")[0]);
        String database = props.getProperty("PGDBNAME", "postgres");
        String user = props.getProperty("user", System.getProperty("user.name"));
        return new ExternalPostgresServer(host, port, database, user, props.getProperty("password", ""));
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public String password() {
        return password;
    }

    @Override
    public String adminDatabase() {
        return database;
    }

    @Override
    public void close() {
        // Not ours to stop.
    }

    @Override
    public String toString() {
        return "Postgres at " + host + ":" + port;
    }
}
