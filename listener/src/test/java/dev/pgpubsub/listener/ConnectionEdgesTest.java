package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestCertificates;
import dev.pgpubsub.testing.TestDatabase;
import dev.pgpubsub.testing.TestServers;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The LISTEN connection at a deployment's edges: TLS asked for in the JDBC URL (a server with
 * {@code ssl=on} and an authority made by the test), and multi-host URLs whose first host is down
 * or a standby. Tasks are published after start with the safety-net poll off, so only a wake-up on
 * the LISTEN connection gets them handled.
 */
@PostgresTest
class ConnectionEdgesTest {

    private static final String SESSIONS = "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
            + "WHERE a.datname = current_database() AND a.application_name LIKE ";

    @Test
    void withVerifyFullTheListenAndWorkerConnectionsBothUseTls(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        try (EmbeddedPostgresServer server = tlsServer(certs); TestDatabase db = server.createDatabase("tls")) {
            Fixtures.reset(db);
            String url = db.jdbcUrl() + "?sslmode=verify-full&sslrootcert=" + certs.caCertificate();
            try (Listener listener = listener(url, db).start()) {
                Fixtures.publishOrders(db, 0, 3);
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 3);
                assertThat(count(db, SESSIONS + "'pgpubsub-%-listen %' AND s.ssl")).as("TLS LISTEN sessions").isEqualTo(1);
                assertThat(count(db, SESSIONS + "'pgpubsub-%-worker %' AND s.ssl")).as("TLS worker sessions").isPositive();
                assertThat(count(db, SESSIONS + "'pgpubsub-%' AND NOT s.ssl")).as("sessions in clear").isZero();
            }
        }
    }

    @Test
    void aServerSignedByAnotherAuthorityIsRefusedOnBothConnections(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(Files.createDirectory(dir.resolve("right")));
        TestCertificates other = TestCertificates.create(Files.createDirectory(dir.resolve("other")));
        try (EmbeddedPostgresServer server = tlsServer(certs); TestDatabase db = server.createDatabase("tls_wrong_ca")) {
            Fixtures.reset(db);
            String wrong = db.jdbcUrl() + "?sslmode=verify-full&sslrootcert=" + other.caCertificate();
            // Workers and LISTEN from the same URL: the workers' pool is opened first, and refused.
            assertThatThrownBy(() -> listener(wrong, db).start()).hasMessageContaining("Could not connect");
            // Workers from a DataSource that trusts the right authority: now the LISTEN connection is the one refused.
            PGSimpleDataSource workers = new PGSimpleDataSource();
            workers.setURL(db.jdbcUrl() + "?sslmode=verify-full&sslrootcert=" + certs.caCertificate());
            workers.setUser(db.user());
            long start = System.nanoTime();
            assertThatThrownBy(() -> listener(wrong, db).dataSource(workers).outageLimit(Duration.ofMinutes(10)).start())
                    .satisfies(e -> assertThat(rootMessage(e)).containsIgnoringCase("certif"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refused at once, not retried as an outage")
                    .isLessThan(Duration.ofMinutes(1));
            assertThat(count(db, SESSIONS + "'pgpubsub-%-listen %'")).isZero();
        }
    }

    @Test
    void tlsAskedOfAServerWithoutItIsRefusedForTheListenConnection(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        PGSimpleDataSource workers = new PGSimpleDataSource();
        workers.setURL(db.jdbcUrl());
        workers.setUser(db.user());
        String url = db.jdbcUrl() + "?sslmode=require";
        // Before, the LISTEN connection dropped the URL's sslmode and logged in in clear.
        long start = System.nanoTime();
        assertThatThrownBy(() -> listener(url, db).dataSource(workers).outageLimit(Duration.ofMinutes(10)).start())
                .satisfies(e -> assertThat(rootMessage(e)).containsIgnoringCase("SSL"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refused at once, not retried as an outage")
                .isLessThan(Duration.ofMinutes(1));
        assertThat(count(db, SESSIONS + "'pgpubsub-%-listen %'")).isZero();
    }

    @Test
    void aFirstHostThatIsDownIsSkipped(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        String url = "jdbc:postgresql://localhost:" + closedPort() + ",localhost:" + db.port() + "/" + db.name()
                + "?targetServerType=primary";
        try (Listener listener = listener(url, db).start()) {
            Fixtures.publishOrders(db, 0, 3);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 3);
            assertThat(count(db, SESSIONS + "'pgpubsub-%-listen %'")).isEqualTo(1);
        }
    }

    @Test
    void aFirstHostThatIsAStandbyIsSkipped() throws Exception {
        try (EmbeddedPostgresServer primary = TestServers.embedded()) {
            try (TestDatabase db = primary.createDatabase("multi_host")) {
                Fixtures.reset(db);
                try (EmbeddedPostgresServer standby = primary.standbyCopy()) {
                    try (var c = standby.connect(db.name()); var s = c.createStatement(); var rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        assertThat(rs.getBoolean(1)).as("the copy is in recovery").isTrue();
                    }
                    String url = "jdbc:postgresql://localhost:" + standby.port() + ",localhost:" + primary.port() + "/" + db.name()
                            + "?targetServerType=primary";
                    try (Listener listener = listener(url, db).start()) {
                        Fixtures.publishOrders(db, 0, 3);
                        await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 3);
                        assertThat(count(db, SESSIONS + "'pgpubsub-%-listen %'")).isEqualTo(1);
                    }
                }
            }
        }
    }

    private static ListenerBuilder listener(String url, TestDatabase db) {
        return Listener.builder().jdbcUrl(url).user(db.user()).password(db.password().isEmpty() ? null : db.password())
                .pollInterval(Duration.ofHours(1)).outageLimit(Duration.ofSeconds(2))
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x"));
    }

    private static EmbeddedPostgresServer tlsServer(TestCertificates certs) {
        return TestServers.embedded(Map.of("ssl", "on", "ssl_cert_file", certs.serverCertificate().toString(),
                "ssl_key_file", certs.serverKey().toString()));
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        StringBuilder all = new StringBuilder();
        while (root != null) {
            all.append(root.getMessage()).append(" | ");
            root = root.getCause();
        }
        return all.toString();
    }
}
