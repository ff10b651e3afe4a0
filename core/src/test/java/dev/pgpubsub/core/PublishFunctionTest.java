package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.NotificationProbe;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SQL function {@code pgpubsub.publish}, as any language, psql or a trigger would call it. */
@PostgresTest
class PublishFunctionTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final TestDatabase db;

    PublishFunctionTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @BeforeEach
    void empty() throws SQLException {
        try (Connection c = db.connect()) {
            c.createStatement().execute("DELETE FROM pgpubsub.notification");
        }
    }

    @Test
    void publishInsertsTheRowAndReturnsItsId() throws SQLException {
        try (Connection c = db.connect()) {
            long id = publish(c, "orders", "{\"order\": 42, \"items\": [1, 2]}");
            try (ResultSet rs = c.createStatement().executeQuery(
                    "SELECT id, channel, payload::text, attempts, last_error, run_at = created_at, created_at <= now() "
                            + "FROM pgpubsub.notification")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(id);
                assertThat(rs.getString(2)).isEqualTo("orders");
                assertThat(rs.getString(3)).isEqualTo("{\"items\": [1, 2], \"order\": 42}");
                assertThat(rs.getInt(4)).isZero();
                assertThat(rs.getString(5)).isNull();
                assertThat(rs.getBoolean(6)).as("run_at defaults to the publish time").isTrue();
                assertThat(rs.getBoolean(7)).isTrue();
                assertThat(rs.next()).isFalse();
            }
        }
    }

    @Test
    void publishWithARunAtDelaysTheTask() throws SQLException {
        OffsetDateTime later = OffsetDateTime.of(2030, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC);
        try (Connection c = db.connect();
                PreparedStatement ps = c.prepareStatement("SELECT pgpubsub.publish('reports', '{}', ?)")) {
            ps.setObject(1, later);
            ps.executeQuery().close();
            try (ResultSet rs = c.createStatement().executeQuery("SELECT run_at FROM pgpubsub.notification")) {
                rs.next();
                assertThat(rs.getObject(1, OffsetDateTime.class)).isEqualTo(later);
            }
        }
    }

    @Test
    void tenThousandPublishesInOneTransactionSendExactlyOneWakeUp() throws SQLException {
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders", "pgpubsub.invoices");
                Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT pgpubsub.publish('orders', jsonb_build_object('n', ?))")) {
                for (int i = 0; i < 10_000; i++) {
                    ps.setInt(1, i);
                    ps.executeQuery().close();
                }
            }
            c.commit();

            assertThat(probe.receivedBeforeSentinel(WAIT)).containsExactly("pgpubsub.orders");
            assertThat(count(c, "SELECT count(DISTINCT payload->>'n') FROM pgpubsub.notification WHERE channel = 'orders'"))
                    .isEqualTo(10_000);
        }
    }

    @Test
    void eachChannelOfATransactionGetsItsOwnWakeUp() throws SQLException {
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders", "pgpubsub.invoices");
                Connection c = db.connect()) {
            c.setAutoCommit(false);
            publish(c, "orders", "{}");
            publish(c, "invoices", "{}");
            publish(c, "orders", "{}");
            c.commit();
            assertThat(probe.receivedBeforeSentinel(WAIT)).containsExactly("pgpubsub.orders", "pgpubsub.invoices");
        }
    }

    @Test
    void rollbackLeavesNoRowAndSendsNoWakeUp() throws SQLException {
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders");
                Connection c = db.connect()) {
            c.setAutoCommit(false);
            publish(c, "orders", "{}");
            c.rollback();
            assertThat(probe.receivedBeforeSentinel(WAIT)).isEmpty();
            assertThat(count(c, "SELECT count(*) FROM pgpubsub.notification")).isZero();
        }
    }

    @Test
    void wakeUpsAreQualifiedSoOtherInstallationsAndApplicationChannelsStayAsleep() throws SQLException {
        PgPubSub.migrate(db.dataSource(), "other_install");
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders", "orders");
                Connection c = db.connect()) {
            c.createStatement().executeQuery("SELECT other_install.publish('orders', '{}')").close();
            assertThat(probe.receivedBeforeSentinel(WAIT)).isEmpty();
        }
    }

    @Test
    void channelNamesThatBreakTheRuleAreRefusedByTheDatabase() throws SQLException {
        try (Connection c = db.connect()) {
            for (String bad : new String[] {"", "has space", "semi;colon", "quote\"d", "1starts_with_digit", "caf\u00e9",
                    "a".repeat(55)}) {
                assertThatThrownBy(() -> publish(c, bad, "{}"))
                        .as("channel name '%s'", bad)
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("notification_channel_name")
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23514"));
            }
            // The longest name that fits: 63 bytes minus "pgpubsub." is 54.
            publish(c, "A".repeat(54), "{}");
            assertThatThrownBy(() -> c.createStatement().execute(
                    "INSERT INTO pgpubsub.notification (channel, payload) VALUES ('drop table', '{}')"))
                    .hasMessageContaining("notification_channel_name");
            assertThat(count(c, "SELECT count(*) FROM pgpubsub.notification")).isEqualTo(1);
        }
    }

    private static long publish(Connection c, String channel, String json) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pgpubsub.publish(?, ?::jsonb)")) {
            ps.setString(1, channel);
            ps.setString(2, json);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
