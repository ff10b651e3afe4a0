package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.listener.ListenerHealth.Status;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link Listener#health()} through a listener's life on a real Postgres. Only states that last
 * (while the database is down, a role may not log in, a handler is held) are awaited; passing ones
 * could be missed on a busy machine.
 */
@PostgresTest
class ListenerHealthTest {

    private static final String LISTEN_BACKEND = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            + "WHERE datname = current_database() AND application_name LIKE 'pgpubsub-%-listen %'";
    private static final Duration LONG = Duration.ofMinutes(10);

    @Test
    void downBeforeTheStartUpWhileServingAndDownAfterTheClose(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        Listener listener = listenerFor(db).workers(3).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).build();
        assertThat(listener.health()).isEqualTo(new ListenerHealth(Status.DOWN, "not started"));
        listener.start();
        try (listener) {
            assertThat(listener.health()).isEqualTo(new ListenerHealth(Status.UP, "listening on 1 channel with 3 workers"));
        }
        assertThat(listener.health()).isEqualTo(new ListenerHealth(Status.DOWN, "closed"));
    }

    @Test
    void aPollOnlyListenerIsUpAndSaysItPollsByConfiguration(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        try (Listener listener = listenerFor(db).pollOnly(true).pollInterval(Duration.ofSeconds(2))
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            await().atMost(AWAIT).until(() -> listener.health().status() == Status.UP);
            assertThat(listener.health().reason())
                    .isEqualTo("polling 1 channel with 4 workers every 2s (poll only, by configuration)");
        }
    }

    /**
     * The LISTEN session's role may not log in for a while, so that its reconnect keeps failing: the
     * listener is DEGRADED for as long, and UP once the role may log in again and LISTEN is back.
     */
    @Test
    void degradedWhileTheListenConnectionIsLostAndUpOnceItIsBack(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        String role = "health_listen";
        db.execute("DROP ROLE IF EXISTS " + role);
        db.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'health'");
        HikariConfig pool = new HikariConfig();
        pool.setDataSource(db.dataSource()); // the workers' connections: the test's own user
        pool.setMaximumPoolSize(6);
        try (HikariDataSource workers = new HikariDataSource(pool);
                Listener listener = Listener.builder().jdbcUrl(db.jdbcUrl()).user(role).password("health")
                        .dataSource(workers).outageLimit(LONG)
                        .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            await().atMost(AWAIT).until(() -> listener.health().status() == Status.UP);

            db.execute("ALTER ROLE " + role + " NOLOGIN");
            try {
                assertThat(db.number(LISTEN_BACKEND)).isEqualTo(1);
                await().atMost(AWAIT).until(() -> listener.health().status() == Status.DEGRADED);
                assertThat(listener.health().reason()).startsWith("the LISTEN connection was lost at ")
                        .endsWith("and is being restored; the poll every 10s finds due tasks meanwhile");
            } finally {
                db.execute("ALTER ROLE " + role + " LOGIN");
            }
            await().atMost(AWAIT).until(() -> listener.health().status() == Status.UP);
            assertThat(listener.stats().reconnects()).isEqualTo(1);
            assertThat(listener.health().reason()).isEqualTo("listening on 1 channel with 4 workers");
        } finally {
            db.execute("DROP ROLE IF EXISTS " + role);
        }
    }

    /**
     * Two listeners while the server is down: one with a long outage limit is DEGRADED for as long,
     * and UP once the server is back; one with a short limit goes DOWN past it, stops by itself and
     * stays DOWN, saying why.
     */
    @Test
    void degradedWhileTheDatabaseIsDownAndDownPastTheOutageLimit(EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("health_outage")) {
            Fixtures.reset(db);
            try (Listener patient = listenerFor(db).outageLimit(LONG).on(ORDERS, (o, ctx) -> { }).start();
                    Listener brief = listenerFor(db).outageLimit(Duration.ofSeconds(2)).on(ORDERS, (o, ctx) -> { }).start()) {
                await().atMost(AWAIT).until(() -> patient.health().status() == Status.UP && brief.health().status() == Status.UP);
                server.stop();
                try {
                    await().atMost(AWAIT).until(() -> patient.health().status() == Status.DEGRADED);
                    assertThat(patient.health().reason()).contains("the LISTEN connection was lost at ");
                    await().atMost(AWAIT).until(() -> brief.failure().isPresent());
                    assertThat(brief.health().status()).isEqualTo(Status.DOWN);
                    assertThat(brief.health().reason()).startsWith("stopped by itself at ")
                            .contains("the database was unusable from ").contains("longer than the outage limit of 2s");
                    assertThat(patient.health().status()).as("within its limit").isEqualTo(Status.DEGRADED);
                } finally {
                    server.start();
                }
                await().atMost(AWAIT).until(() -> patient.health().status() == Status.UP);
                assertThat(brief.health().status()).as("stopped for good").isEqualTo(Status.DOWN);
            }
        }
    }

    @Test
    void downWhileTheStartWaitsForTheDatabaseAndUpOnceItCame(EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("health_start")) {
            Fixtures.reset(db);
            Listener listener = listenerFor(db).outageLimit(LONG).on(ORDERS, (o, ctx) -> { }).build();
            server.stop();
            CompletableFuture<Void> starting;
            try {
                starting = CompletableFuture.runAsync(listener::start);
                await().atMost(AWAIT).until(() -> listener.health().reason().contains("the database is unreachable"));
                assertThat(listener.health().status()).isEqualTo(Status.DOWN);
                assertThat(listener.health().reason()).startsWith("starting since ").contains("trying again for at most 10m");
            } finally {
                server.start();
            }
            try (listener) {
                starting.get(AWAIT.toSeconds(), TimeUnit.SECONDS);
                await().atMost(AWAIT).until(() -> listener.health().status() == Status.UP);
            }
        }
    }

    @Test
    void degradedWhileStartUpRecoveryDrainsTheBacklog(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        Fixtures.publishOrders(db, 1, 2);
        CountDownLatch release = new CountDownLatch(1);
        try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> {
            release.await(2, TimeUnit.MINUTES); // holds recovery's only chunk
            recordHandled(ctx, o.n(), "x");
        }).start()) {
            try {
                assertThat(listener.health()).isEqualTo(
                        new ListenerHealth(Status.DEGRADED, "start-up recovery is draining the backlog"));
            } finally {
                release.countDown();
            }
            await().atMost(AWAIT).until(() -> listener.health().status() == Status.UP);
            assertThat(listener.stats().recoveredTasks()).isEqualTo(1);
        }
    }

    /** A hung handler is abandoned, and with no abandoned thread allowed, not replaced: one worker fewer. */
    @Test
    void degradedWhileFewerWorkersRunThanConfigured(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        CountDownLatch never = new CountDownLatch(1);
        // The timed-out task is retried only in ten minutes: the other worker stays free.
        RetryPolicy later = RetryPolicy.DEFAULT.withDelays(Duration.ofMinutes(10), Duration.ofMinutes(10));
        try (Listener listener = listenerFor(db).workers(2).maxAbandonedThreads(0).recoverOnStart(false).retryPolicy(later)
                .handlerTimeout(Duration.ofMillis(300)).on(ORDERS, (o, ctx) -> {
                    while (never.getCount() > 0) {
                        try {
                            never.await();
                        } catch (InterruptedException ignored) {
                            // deaf to interruption, as a hung handler is
                        }
                    }
                }).start()) {
            Fixtures.publishOrders(db, 1, 2);
            await().atMost(AWAIT).until(() -> listener.health().status() == Status.DEGRADED);
            assertThat(listener.health().reason())
                    .isEqualTo("1 of 2 workers are running (1 handler thread(s) abandoned after their timeout)");
            assertThat(listener.failure()).isEmpty();
        } finally {
            never.countDown();
        }
    }
}
