package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Handlers that hang, queries stuck behind locks, and a role with low server timeouts. */
@PostgresTest
class TimeoutTest {

    private static final RetryPolicy FAST = new RetryPolicy(5, Duration.ofMillis(20), Duration.ofMillis(100), 0.2);

    private final TestDatabase db;

    TimeoutTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    /** In the claim loop, and in start-up recovery (whose chunk is abandoned so that recovery carries on). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aHandlerHungInJavaIsAbortedItsWorkerReplacedAndItsTaskRetried(boolean inRecovery) throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        long[] ids = Fixtures.publishOrders(db, 1, 6);
        long hung = ids[2];
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(inRecovery).retryPolicy(FAST)
                .handlerTimeout(Duration.ofSeconds(1))
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), Thread.currentThread().getName());
                    if (ctx.id() == hung && ctx.attempt() == 1) {
                        while (never.getCount() > 0) { // until the test ends
                            try {
                                never.await(); // deaf to its interruption, as a stuck handler is
                            } catch (InterruptedException ignored) {
                                // keep hanging
                            }
                        }
                    }
                }).start()) {
            long started = System.nanoTime();
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 5);
            System.out.printf("FAULT handler hung in Java (timeout 1 s, %s): tasks=5 faults=1 lost=0 duplicated=0 "
                    + "recovery_ms=%d%n", inRecovery ? "in start-up recovery" : "in the claim loop",
                    (System.nanoTime() - started) / 1_000_000);
            ListenerStats stats = listener.stats();
            assertThat(stats.handlerTimeouts()).isEqualTo(1);
            assertThat(stats.abandonedThreads()).isEqualTo(1);
            assertThat(stats.tasksFailed()).isEqualTo(1);
            // The hung task ran again as attempt 2; its batch's other tasks were not charged an attempt.
            assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n"))
                    .containsExactly("1:1", "2:1", "3:2", "4:1", "5:1");
            if (!inRecovery) {
                assertThat(db.strings("SELECT DISTINCT by FROM handled")).singleElement().asString()
                        .endsWith("worker-1"); // the replacement takes the worker's name
            }
            assertThat(db.strings("SELECT errors->0->>'error' FROM pgpubsub.notification")).isEmpty();
        } finally {
            never.countDown();
        }
    }

    @Test
    void aHandlerHungInTheDatabaseIsStoppedByTheServerToo() throws Exception {
        Fixtures.publishOrders(db, 1, 3);
        try (Listener listener = listenerFor(db).retryPolicy(FAST).handlerTimeout(Duration.ofSeconds(1))
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), "x");
                    if (o.n() == 1 && ctx.attempt() == 1) {
                        try (Statement s = ctx.connection().createStatement()) {
                            s.execute("SELECT pg_sleep(3600)");
                        }
                    }
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
            assertThat(listener.stats().tasksFailed()).isEqualTo(1);
        }
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n")).containsExactly("1:2", "2:1");
        assertThat(count(db, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3600)%' "
                + "AND pid <> pg_backend_pid()")).isZero();
    }

    @Test
    void theLibrarysQueriesGiveUpOnALockAfterTheStatementTimeoutAndRetry() throws Exception {
        Fixtures.publishOrders(db, 1, 11);
        try (Connection locker = db.connect()) {
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("LOCK TABLE pgpubsub.notification IN ACCESS EXCLUSIVE MODE");
            }
            AtomicLong longestWaitMillis = new AtomicLong();
            try (Listener listener = listenerFor(db).statementTimeout(Duration.ofMillis(250)).recoverOnStart(false)
                    .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
                // For 3 s no worker query may wait on the lock for longer than its timeout (plus slack).
                long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (System.nanoTime() < until) {
                    longestWaitMillis.accumulateAndGet(count(db, "SELECT coalesce(max(extract(epoch FROM now() - query_start)"
                            + " * 1000), 0)::bigint FROM pg_stat_activity WHERE application_name LIKE 'pgpubsub-%-worker %' "
                            + "AND wait_event_type = 'Lock'"), Math::max);
                    Thread.sleep(50); // sampling, not waiting for a condition
                }
                assertThat(count(db, "SELECT count(*) FROM handled")).isZero();
                locker.rollback();
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 10);
            }
            assertThat(longestWaitMillis.get()).as("longest wait on the lock, ms").isPositive().isLessThan(1_500);
        }
    }

    @Test
    void lowServerTimeoutsOnTheListenersRoleDoNotBreakLongHandlersOrRecovery() throws Exception {
        db.execute("ALTER ROLE " + db.user() + " IN DATABASE " + db.name()
                + " SET statement_timeout = '100ms'");
        db.execute("ALTER ROLE " + db.user() + " IN DATABASE " + db.name()
                + " SET idle_in_transaction_session_timeout = '150ms'");
        try {
            Fixtures.publishOrders(db, 1, 2_001);
            try (Listener listener = listenerFor(db).retryPolicy(FAST).recoveryFetchSize(50)
                    .on(ORDERS, (o, ctx) -> {
                        recordHandled(ctx, o.n(), "x");
                        if (o.n() % 500 == 0) {
                            Thread.sleep(300); // idle in the claiming transaction for twice the server's limit
                            try (Statement s = ctx.connection().createStatement()) {
                                s.execute("SELECT pg_sleep(0.2)"); // longer than the role's statement timeout
                            }
                        }
                    }).start()) {
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2_000);
                assertThat(listener.stats().tasksFailed()).isZero();
            }
            assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(2_000);
        } finally {
            db.execute("ALTER ROLE " + db.user() + " IN DATABASE " + db.name() + " RESET ALL");
        }
    }
}
