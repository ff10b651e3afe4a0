package dev.pgpubsub.testing;

import org.testcontainers.postgresql.PostgreSQLContainer;

/** A server in a Docker container, started through Testcontainers. */
final class ContainerPostgresServer implements PostgresServer {

    static final String IMAGE = "postgres:17";

    private final PostgreSQLContainer container;

    private ContainerPostgresServer(PostgreSQLContainer container) {
        this.container = container;
    }

    static ContainerPostgresServer start() {
        PostgreSQLContainer container = new PostgreSQLContainer(IMAGE)
                .withCommand("postgres", "-c", "max_connections=300", "-c", "fsync=off");
        container.start();
        return new ContainerPostgresServer(container);
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(5432);
    }

    @Override
    public String user() {
        return container.getUsername();
    }

    @Override
    public String password() {
        return container.getPassword();
    }

    @Override
    public String adminDatabase() {
        return container.getDatabaseName();
    }

    @Override
    public void close() {
        container.stop();
    }

    @Override
    public String toString() {
        return "Postgres in container " + IMAGE + " at " + host() + ":" + port();
    }
}
