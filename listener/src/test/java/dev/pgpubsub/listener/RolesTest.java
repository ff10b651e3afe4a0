package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.DocumentedRoles;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The listener's role of docs/operations.md, granted exactly as the page says (its SQL is run as
 * written): a listener claims and runs tasks, retries them, and moves failed and unreadable ones to
 * the dead letters, which it cannot read. Tasks are published by the page's publisher role.
 */
@PostgresTest
class RolesTest {

    private static final RetryPolicy TWICE = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(80), 0.5);

    private static DocumentedRoles roles;
    private static String listenerLogin;
    private static String publisherLogin;

    private final TestDatabase db;

    RolesTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void setUp(TestDatabase db) throws Exception {
        roles = new DocumentedRoles(db);
        PgPubSub.migrate(roles.dataSource(roles.role("owner")));
        roles.grant();
        listenerLogin = roles.login("listener");
        publisherLogin = roles.login("publisher");
        // The handlers' own table: "plus whatever their handlers write".
        db.execute("CREATE TABLE handled (task_id bigint NOT NULL, n bigint NOT NULL, attempt int NOT NULL)");
        db.execute("GRANT INSERT ON handled TO " + listenerLogin);
    }

    @AfterAll
    static void tearDown() throws SQLException {
        roles.close();
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.dead_letter; DELETE FROM handled");
    }

    private ListenerBuilder listener() {
        return Listener.builder().jdbcUrl(db.jdbcUrl()).user(listenerLogin).password(DocumentedRoles.PASSWORD)
                .retryPolicy(TWICE);
    }

    private long[] publish(long from, long to) {
        List<Order> orders = LongStream.range(from, to).mapToObj(Order::new).toList();
        return Publisher.create().inNewTransaction(roles.dataSource(publisherLogin), (tx, c) -> tx.publishAll(ORDERS, orders));
    }

    private static void record(TaskContext ctx, long n) throws SQLException {
        try (PreparedStatement ps = ctx.connection().prepareStatement("INSERT INTO handled (task_id, n, attempt) VALUES (?, ?, ?)")) {
            ps.setLong(1, ctx.id());
            ps.setLong(2, n);
            ps.setInt(3, ctx.attempt());
            ps.executeUpdate();
        }
    }

    /**
     * Recovery at start, then wake-ups: tasks run, a failing one is retried and then moved to the dead
     * letters (its failures noted in claim_release and judged by the next claim).
     */
    @Test
    void aListenerRunsTasksRetriesThemAndMovesFailedOnesToTheDeadLetters() throws Exception {
        publish(1, 4); // before the start: start-up recovery claims them
        try (Listener listener = listener().workers(2).batchSize(3).on(ORDERS, (o, ctx) -> {
            if (o.n() == 5) {
                throw new IllegalStateException("task 5 always fails");
            }
            record(ctx, o.n());
        }).start()) {
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 3);
            long failing = publish(4, 7)[1]; // after the start: a wake-up
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 5
                    && db.number("SELECT count(*) FROM pgpubsub.dead_letter") == 1);
            assertThat(listener.stats().deadLettered()).isEqualTo(1);
            assertThat(listener.stats().tasksFailed()).isEqualTo(2);
            assertThat(db.strings("SELECT id || ' ' || reason FROM pgpubsub.dead_letter"))
                    .containsExactly(failing + " failed 2 of 2 attempts");
        }
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n"))
                .containsExactly("1:1", "2:1", "3:1", "4:1", "6:1");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
        assertThat(db.number("SELECT count(*) FROM pgpubsub.claim_release")).isPositive();
    }

    /** The listener's role writes its heartbeat, renews it, marks it stopped, and deletes expired rows. */
    @Test
    void aListenerWritesItsHeartbeatAndDeletesExpiredOnes() throws Exception {
        db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        db.execute("INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening, started_at,"
                + " expires_at) VALUES ('pgpubsub-1', 'gone-host', 1, '{orders}', 'running', true, now(), now() - interval '1 s')");
        try (Listener listener = listener().heartbeatInterval(Duration.ofSeconds(1))
                .on(ORDERS, (o, ctx) -> record(ctx, o.n())).start()) {
            publish(1, 3);
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM pgpubsub.listener_heartbeat"
                    + " WHERE state = 'running' AND listening AND tasks_done = 2") == 1);
            assertThat(db.number("SELECT count(*) FROM pgpubsub.listener_heartbeat WHERE host = 'gone-host'")).isZero();
        }
        assertThat(db.strings("SELECT state FROM pgpubsub.listener_heartbeat")).containsExactly("stopped");
    }

    /** A payload that does not map, and one larger than the listener loads, go to the dead letters unrun. */
    @Test
    void aListenerMovesPoisonAndOversizedPayloadsToTheDeadLetters() throws Exception {
        try (Connection c = roles.connect(publisherLogin); Statement s = c.createStatement()) {
            s.execute("SELECT pgpubsub.publish('orders', '{\"n\": \"not a number\"}')");
            s.execute("SELECT pgpubsub.publish('orders', jsonb_build_object('n', 1, 'pad', repeat('x', 5000)))");
        }
        publish(10, 12);
        try (Listener listener = listener().maxPayloadBytes(4_096).on(ORDERS, (o, ctx) -> record(ctx, o.n())).start()) {
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 2
                    && db.number("SELECT count(*) FROM pgpubsub.dead_letter") == 2);
            assertThat(listener.stats().deadLettered()).isEqualTo(2);
        }
        assertThat(db.strings("SELECT reason FROM pgpubsub.dead_letter ORDER BY id")).satisfiesExactly(
                r -> assertThat(r).startsWith("payload unreadable:").contains("does not map to"),
                r -> assertThat(r).contains("larger than the listener loads (4096 bytes)"));
        assertThat(db.strings("SELECT n::text FROM handled ORDER BY n")).containsExactly("10", "11");
    }

    @Test
    void aListenerCanNeitherReadDeadLettersNorPublishThroughTheFunctions() throws SQLException {
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason) "
                + "VALUES (99, 'orders', '{}', now(), 1, 'failed 1 of 1 attempts')");
        try (Connection c = roles.connect(listenerLogin); Statement s = c.createStatement()) {
            for (String sql : List.of("SELECT * FROM pgpubsub.dead_letter", "SELECT count(*) FROM pgpubsub.dead_letter",
                    "DELETE FROM pgpubsub.dead_letter", "UPDATE pgpubsub.dead_letter SET reason = 'x'",
                    "SELECT pgpubsub.publish('orders', '{}')", "SELECT pgpubsub.publish_all('orders', '[{}]')")) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql).hasMessageContaining("permission denied");
            }
        }
        assertThatThrownBy(() -> DeadLetters.of(roles.dataSource(listenerLogin)).list(null, 10))
                .hasMessageContaining("permission denied");
        assertThat(db.strings("SELECT reason FROM pgpubsub.dead_letter")).containsExactly("failed 1 of 1 attempts");
    }
}
