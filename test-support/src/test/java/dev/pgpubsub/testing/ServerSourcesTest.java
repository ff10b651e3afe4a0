package dev.pgpubsub.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** Each of the three sources yields a server on which test databases are created and dropped. */
class ServerSourcesTest {

    @Test
    void embeddedServerRunsPostgres17AndHostsTestDatabases() throws Exception {
        try (EmbeddedPostgresServer server = TestServers.embedded()) {
            assertHostsTestDatabases(server);
            try (Connection c = server.connect("postgres")) {
                assertThat(queryInt(c, "SELECT current_setting('server_version_num')::int / 10000")).isEqualTo(17);
            }
        }
    }

    @Test
    void serverNamedByUrlHostsTestDatabasesAndIsLeftRunning() throws Exception {
        try (EmbeddedPostgresServer real = TestServers.embedded()) {
            String url = "jdbc:postgresql://localhost:" + real.port() + "/postgres?user=postgres";
            PostgresServer byUrl = TestServers.external(url);
            assertThat(byUrl.port()).isEqualTo(real.port());
            assertThat(byUrl.user()).isEqualTo("postgres");
            assertHostsTestDatabases(byUrl);
            byUrl.close();
            try (Connection c = real.connect("postgres")) {
                assertThat(queryInt(c, "SELECT 1")).isEqualTo(1);
            }
        }
    }

    @Test
    void containerServerHostsTestDatabasesWhereDockerAnswers() throws Exception {
        assumeTrue(TestServers.dockerAnswers(), "no Docker engine answers here");
        try (PostgresServer server = TestServers.container()) {
            assertHostsTestDatabases(server);
        }
    }

    private static void assertHostsTestDatabases(PostgresServer server) throws SQLException {
        String name;
        try (TestDatabase db = server.createDatabase("SourcesTest")) {
            name = db.name();
            try (Connection c = db.connect(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT current_database()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(name);
            }
            assertThat(databaseExists(server, name)).isTrue();
        }
        assertThat(databaseExists(server, name)).isFalse();
    }

    private static boolean databaseExists(PostgresServer server, String name) throws SQLException {
        try (Connection c = server.connect(server.adminDatabase());
                var ps = c.prepareStatement("SELECT count(*) FROM pg_database WHERE datname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        }
    }

    static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
