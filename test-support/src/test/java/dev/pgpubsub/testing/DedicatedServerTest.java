package dev.pgpubsub.testing;

import static dev.pgpubsub.testing.ServerSourcesTest.queryInt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** A dedicated server survives stop, restart and kill with its committed data. */
@PostgresTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DedicatedServerTest {

    @BeforeAll
    static void createTable(EmbeddedPostgresServer server) throws SQLException {
        try (Connection c = server.connect("postgres")) {
            c.createStatement().execute("CREATE TABLE survivor (n int)");
            c.createStatement().execute("INSERT INTO survivor VALUES (1)");
        }
    }

    @Test
    @Order(1)
    void isNotTheSharedServer(EmbeddedPostgresServer dedicated, PostgresServer shared) {
        assertThat(dedicated.port()).isNotEqualTo(shared.port());
    }

    @Test
    @Order(2)
    void stoppedServerRefusesConnectionsAndComesBackWithItsData(EmbeddedPostgresServer server) throws SQLException {
        server.stop();
        assertThat(server.isRunning()).isFalse();
        assertThatThrownBy(() -> server.connect("postgres")).isInstanceOf(SQLException.class);
        server.start();
        try (Connection c = server.connect("postgres")) {
            assertThat(queryInt(c, "SELECT count(*) FROM survivor")).isEqualTo(1);
        }
    }

    @Test
    @Order(3)
    void killedServerLosesNoCommittedRow(EmbeddedPostgresServer server) throws SQLException {
        long pidBefore = server.postmasterPid();
        try (Connection c = server.connect("postgres")) {
            c.createStatement().execute("INSERT INTO survivor VALUES (2)");
            server.kill();
            assertThatThrownBy(() -> c.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class);
        }
        assertThat(ProcessHandle.of(pidBefore).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        server.start();
        try (Connection c = server.connect("postgres")) {
            assertThat(queryInt(c, "SELECT count(*) FROM survivor")).isEqualTo(2);
        }
    }

    @Test
    @Order(4)
    void restartKeepsThePort(EmbeddedPostgresServer server) throws SQLException {
        int port = server.port();
        server.restart();
        assertThat(server.port()).isEqualTo(port);
        try (Connection c = server.connect("postgres")) {
            assertThat(queryInt(c, "SELECT count(*) FROM survivor")).isEqualTo(2);
        }
    }
}
