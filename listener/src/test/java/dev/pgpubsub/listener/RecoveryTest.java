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
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Start-up recovery drains the backlog through a cursor before the claim loop starts. */
@PostgresTest
class RecoveryTest {

    private final TestDatabase db;

    RecoveryTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        Fixtures.execute(db, "ALTER DATABASE " + db.name() + " RESET idle_in_transaction_session_timeout");
    }

    /** Rows written straight into the table, as a backlog left while no listener ran. */
    static void backlog(TestDatabase db, String channel, int rows) throws SQLException {
        Fixtures.execute(db, "INSERT INTO pgpubsub.notification (channel, payload) SELECT '" + channel + "', "
                + "jsonb_build_object('n', g, 'pad', repeat('x', 200)) FROM generate_series(1, " + rows + ") g");
    }

    /**
     * close() during start-up recovery honours the shutdown grace: the chunk in flight finishes and
     * commits, and nothing is charged an attempt. (It was aborted, its attempts counted.)
     */
    @Test
    void closeDuringRecoveryLetsTheChunkInFlightFinishAndChargesNothing() throws Exception {
        backlog(db, "orders", 20);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Listener listener = listenerFor(db).workers(1).batchSize(5).shutdownGrace(Duration.ofSeconds(30))
                .on(ORDERS, (o, ctx) -> {
                    started.countDown();
                    release.await();
                    recordHandled(ctx, o.n(), "r");
                }).start();
        assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
        Thread closer = new Thread(listener::close, "closer");
        closer.start();
        await().atMost(AWAIT).until(() -> closer.getState() == Thread.State.TIMED_WAITING
                || closer.getState() == Thread.State.WAITING);
        release.countDown();
        closer.join(AWAIT.toMillis());
        assertThat(closer.isAlive()).isFalse();
        assertThat(count(db, "SELECT count(*) FROM handled")).as("the chunk in flight, finished").isEqualTo(5);
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isEqualTo(15);
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification WHERE attempts > 0 OR run_at > now()")).isZero();
    }

    @Test
    void theBacklogIsDrainedOldestFirstByRecoveryAndOtherChannelsWait() throws Exception {
        backlog(db, "orders", 5_000);
        backlog(db, "invoices", 10);
        List<Long> ids = new CopyOnWriteArrayList<>();
        try (Listener listener = listenerFor(db).workers(1).recoveryFetchSize(300)
                .on(ORDERS, (o, ctx) -> {
                    ids.add(ctx.id());
                    recordHandled(ctx, o.n(), "r");
                }).start()) {
            await().atMost(AWAIT).until(() -> !listener.stats().recovering() && ids.size() == 5_000);
            assertThat(listener.stats().recoveredTasks()).isEqualTo(5_000);
        }
        assertThat(ids).isSorted().doesNotHaveDuplicates();
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(5_000);
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(5_000);
        assertThat(Fixtures.strings(db, "SELECT channel || ' ' || attempts || ' ' || count(*) FROM pgpubsub.notification "
                + "GROUP BY channel, attempts")).containsExactly("invoices 0 10");
    }

    @Test
    void tasksPublishedDuringRecoveryAreNotMissed() throws Exception {
        backlog(db, "orders", 3_000);
        try (Listener listener = listenerFor(db).workers(2).on(ORDERS, (o, ctx) -> {
            recordHandled(ctx, o.n(), "r");
            Thread.sleep(1); // keep recovery busy for a few seconds
        }).start()) {
            await().atMost(AWAIT).until(() -> listener.stats().recovering() && listener.stats().recoveredTasks() > 0);
            long[] published = Fixtures.publishOrders(db, 1_000_000, 1_000_100);
            assertThat(published).hasSize(100);
            assertThat(listener.stats().recovering()).as("still recovering after publishing").isTrue();
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 3_100);
            assertThat(listener.stats().recovering()).isFalse();
            assertThat(listener.stats().recoveredTasks()).isEqualTo(3_000);
            assertThat(listener.stats().tasksDone()).isEqualTo(3_100);
        }
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(3_100);
    }

    @Test
    void twoListenersRecoveringTheSameFiftyThousandRowsHandleEachOnce() throws Exception {
        backlog(db, "orders", 50_000);
        ListenerBuilder builderA = listenerFor(db).on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "a"));
        ListenerBuilder builderB = listenerFor(db).on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "b"));
        CompletableFuture<Listener> a = CompletableFuture.supplyAsync(builderA::start);
        CompletableFuture<Listener> b = CompletableFuture.supplyAsync(builderB::start);
        try (Listener first = a.join(); Listener second = b.join()) {
            await().atMost(AWAIT.multipliedBy(3)).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(first.stats().tasksDone() + second.stats().tasksDone()).isEqualTo(50_000);
            assertThat(first.stats().recoveredTasks() + second.stats().recoveredTasks()).isPositive();
        }
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(50_000);
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(50_000);
    }

    @Test
    void aShortIdleInTransactionTimeoutDoesNotCutTheCursorOff() throws Exception {
        // Sessions of this database are cut off after 300 ms idle in a transaction; the cursor's is not.
        Fixtures.execute(db, "ALTER DATABASE " + db.name() + " SET idle_in_transaction_session_timeout = '300ms'");
        backlog(db, "orders", 600);
        try (Listener listener = listenerFor(db).workers(1).recoveryFetchSize(100).batchSize(100)
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), "slow");
                    if (o.n() % 100 == 0) {
                        Thread.sleep(400); // the cursor's transaction idles longer than the timeout
                    }
                }).start()) {
            await().atMost(AWAIT).until(() -> !listener.stats().recovering() && count(db, "SELECT count(*) FROM handled") == 600);
            assertThat(listener.stats().recoveredTasks()).isEqualTo(600);
        }
    }

    @Test
    void withoutRecoveryTheClaimLoopDrainsTheBacklog() throws Exception {
        backlog(db, "orders", 1_000);
        try (Listener listener = listenerFor(db).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "loop")).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1_000);
            assertThat(listener.stats().recoveredTasks()).isZero();
            assertThat(listener.stats().tasksDone()).isEqualTo(1_000);
        }
    }
}
