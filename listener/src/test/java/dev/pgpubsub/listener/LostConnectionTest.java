package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The LISTEN connection is terminated under a running listener: it reconnects, LISTENs and scans. */
@PostgresTest
class LostConnectionTest {

    private static final String LISTEN_BACKEND = "SELECT pid FROM pg_stat_activity "
            + "WHERE datname = current_database() AND application_name LIKE 'pgpubsub-%-listen %'";

    @Test
    void aTerminatedListenConnectionIsReplacedAndNothingPublishedMeanwhileIsMissed(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        Publisher publisher = Publisher.create();
        // No safety-net poll within the test: only wake-ups and the scan after reconnecting can find tasks.
        try (Listener listener = listenerFor(db).pollInterval(Duration.ofHours(1))
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            await().atMost(AWAIT).until(() -> db.strings(LISTEN_BACKEND).size() == 1);
            String before = db.strings(LISTEN_BACKEND).get(0);

            db.execute("SELECT pg_terminate_backend(" + before + ")");
            publisher.publish(db.dataSource(), ORDERS, new Order(1)); // its wake-up may reach nobody

            await().atMost(AWAIT).until(() -> db.strings(LISTEN_BACKEND).size() == 1
                    && !db.strings(LISTEN_BACKEND).get(0).equals(before));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);

            long wakeUps = listener.stats().wakeUps();
            publisher.publish(db.dataSource(), ORDERS, new Order(2)); // woken through the new connection
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
            assertThat(listener.stats().wakeUps()).isGreaterThan(wakeUps);
        }
        assertThat(db.strings("SELECT n FROM handled ORDER BY n")).containsExactly("1", "2");
    }

    @Test
    void aServerRestartIsSurvivedWithBackoffAndTheBacklogOfTheOutageIsHandled(EmbeddedPostgresServer server)
            throws Exception {
        try (TestDatabase db = server.createDatabase("restart")) {
            Fixtures.reset(db);
            Publisher publisher = Publisher.create();
            try (Listener listener = listenerFor(db).pollInterval(Duration.ofHours(1))
                    .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
                publisher.publish(db.dataSource(), ORDERS, new Order(1));
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);

                server.restart(); // the LISTEN connection and every pooled connection die
                publisher.publish(db.dataSource(), ORDERS, new Order(2)); // may be published before LISTEN is back

                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
                publisher.publish(db.dataSource(), ORDERS, new Order(3));
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 3);
            }
            assertThat(db.strings("SELECT n FROM handled ORDER BY n")).containsExactly("1", "2", "3");
        }
    }

    @Test
    void pollOnlyModeHandlesTasksWithoutAnyListenConnection(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        try (Listener listener = listenerFor(db).pollOnly(true).pollInterval(Duration.ofMillis(200))
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "polled")).start()) {
            Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            assertThat(db.strings(LISTEN_BACKEND)).isEmpty();
            assertThat(listener.stats().wakeUps()).isZero();
            assertThat(listener.stats().listening()).as("poll-only: never LISTENing").isFalse();
            assertThat(listener.stats().outageSince()).isNull();
        }
    }

    /**
     * The stats show an outage while the server is down and its end once the database works again:
     * for a listener that loses its LISTEN connection, and for a poll-only one, whose claims alone fail.
     * Before the start and after the close: no outage and no LISTEN.
     */
    @Test
    void theStatsShowAnOutageWhileTheServerIsDownAndItsEndOnceItIsBack(EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("outage_stats")) {
            Fixtures.reset(db);
            Listener listening = listenerFor(db).pollInterval(Duration.ofMillis(200)).outageLimit(Duration.ofMinutes(10))
                    .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "listening")).build();
            Listener polling = listenerFor(db).pollOnly(true).pollInterval(Duration.ofMillis(200))
                    .outageLimit(Duration.ofMinutes(10)).on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "polling")).build();
            assertThat(listening.stats().listening()).isFalse();
            assertThat(listening.stats().outageSince()).isNull();
            try (listening; polling) {
                listening.start();
                polling.start();
                assertThat(listening.stats().listening()).isTrue();
                assertThat(polling.stats().listening()).isFalse();
                assertThat(listening.stats().outageSince()).isNull();
                assertThat(polling.stats().outageSince()).isNull();

                Instant beforeStop = Instant.now();
                server.stop();
                try {
                    await().atMost(AWAIT).until(() -> listening.stats().outageSince() != null
                            && polling.stats().outageSince() != null);
                    assertThat(listening.stats().listening()).isFalse();
                    for (Listener l : List.of(listening, polling)) {
                        assertThat(l.stats().outageSince()).isBetween(beforeStop.minusSeconds(1), Instant.now());
                        assertThat(l.failure()).isEmpty();
                    }
                } finally {
                    server.start();
                }
                await().atMost(AWAIT).until(() -> listening.stats().outageSince() == null
                        && listening.stats().listening() && polling.stats().outageSince() == null);
                Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            }
            assertThat(listening.stats().listening()).isFalse();
            assertThat(listening.stats().outageSince()).isNull();
            assertThat(listening.stats().tasksDone() + polling.stats().tasksDone()).isEqualTo(1);
        }
    }

    @Test
    void aHalfOpenListenConnectionIsFoundByItsRoundTripAndReplaced(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        Publisher publisher = Publisher.create();
        try (FreezableProxy proxy = new FreezableProxy(db.port());
                com.zaxxer.hikari.HikariDataSource workers = pooled(db);
                Listener listener = Listener.builder()
                        .jdbcUrl("jdbc:postgresql://localhost:" + proxy.port() + "/" + db.name()).user(db.user())
                        .dataSource(workers).pollInterval(Duration.ofHours(1))
                        .listenPingInterval(Duration.ofMillis(500))
                        .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            publisher.publish(db.dataSource(), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);

            proxy.freezeExisting(); // the LISTEN connection stays open but hears nothing any more
            long frozen = System.nanoTime();
            publisher.publish(db.dataSource(), ORDERS, new Order(2)); // its wake-up is swallowed

            // Only the round trip can notice; the scan after reconnecting finds the task.
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
            long recoveredMillis = (System.nanoTime() - frozen) / 1_000_000;
            System.out.printf("FAULT half-open LISTEN connection (ping every 500 ms): tasks=3 faults=1 lost=0 "
                    + "duplicated=0 recovery_ms=%d%n", recoveredMillis);
            assertThat(recoveredMillis).as("found within about two ping intervals").isLessThan(10_000);
            publisher.publish(db.dataSource(), ORDERS, new Order(3));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 3);
        }
    }

    private static com.zaxxer.hikari.HikariDataSource pooled(TestDatabase db) {
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        config.setDataSource(db.dataSource());
        config.setMaximumPoolSize(6);
        return new com.zaxxer.hikari.HikariDataSource(config);
    }
}
