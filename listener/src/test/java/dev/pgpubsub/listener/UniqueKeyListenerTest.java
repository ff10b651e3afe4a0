package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.PublishOptions;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.core.Tasks;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Unique keys and cancellation against a running listener: done, dead-lettered and running tasks. */
@PostgresTest
class UniqueKeyListenerTest {

    private static final PublishOptions KEY = PublishOptions.defaults().key("order-42");
    private static final Duration BOUND = Duration.ofSeconds(20);

    private final TestDatabase db;
    private final Publisher publisher = Publisher.create();

    UniqueKeyListenerTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    @Test
    void aKeyIsFreeAgainOnceItsTaskIsDone() throws Exception {
        try (Listener listener = listenerFor(db).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            long first = publisher.publish(db.dataSource(), ORDERS, new Order(1), KEY);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            long second = publisher.publish(db.dataSource(), ORDERS, new Order(2), KEY);
            assertThat(second).isNotEqualTo(first);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
        }
        assertThat(db.strings("SELECT n::text FROM handled ORDER BY n")).containsExactly("1", "2");
    }

    @Test
    void aKeyIsFreeAgainOnceItsTaskIsDeadLetteredAndTheDeadLetterKeepsIt() throws Exception {
        RetryPolicy once = new RetryPolicy(1, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
        try (Listener listener = listenerFor(db).recoverOnStart(false).retryPolicy(once)
                .on(ORDERS, (o, ctx) -> {
                    if (o.n() == 1) {
                        throw new IllegalStateException("task 1 always fails");
                    }
                    recordHandled(ctx, o.n(), "x");
                }).start()) {
            long first = publisher.publish(db.dataSource(), ORDERS, new Order(1), KEY);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1);
            assertThat(db.strings("SELECT id || ':' || key FROM pgpubsub.dead_letter")).containsExactly(first + ":order-42");
            long second = publisher.publish(db.dataSource(), ORDERS, new Order(2), KEY);
            assertThat(second).isNotEqualTo(first);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        assertThat(DeadLetters.of(db.dataSource()).requeue(db.number("SELECT id FROM pgpubsub.dead_letter")))
                .as("re-queued with its key, now free").isEqualTo(1);
        assertThat(db.strings("SELECT key FROM pgpubsub.notification")).containsExactly("order-42");
    }

    @Test
    void aRunningTaskNeitherMakesAPublishOrACancelWait() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Listener listener = listenerFor(db).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> {
                    if (o.n() == 1) {
                        running.countDown();
                        assertThat(release.await(60, TimeUnit.SECONDS)).isTrue();
                    }
                    recordHandled(ctx, o.n(), "x");
                }).start()) {
            long id = publisher.publish(db.dataSource(), ORDERS, new Order(1), KEY);
            assertThat(running.await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            try {
                CompletableFuture<Long> kept = CompletableFuture.supplyAsync(
                        () -> publisher.publish(db.dataSource(), ORDERS, new Order(2), KEY));
                assertThat(kept.get(BOUND.toSeconds(), TimeUnit.SECONDS)).as("keep returns the running task").isEqualTo(id);
                CompletableFuture<Long> replaced = CompletableFuture.supplyAsync(
                        () -> publisher.publish(db.dataSource(), ORDERS, new Order(3), KEY.replace()));
                assertThatThrownBy(() -> replaced.get(BOUND.toSeconds(), TimeUnit.SECONDS))
                        .hasMessageContaining("SQLSTATE 55P03");
                CompletableFuture<Tasks.Cancellation> byKey = CompletableFuture.supplyAsync(
                        () -> Tasks.of(db.dataSource()).cancel("orders", "order-42"));
                assertThat(byKey.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Tasks.Cancellation.RUNNING);
            } finally {
                release.countDown();
            }
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            assertThat(Tasks.of(db.dataSource()).cancel(id)).isEqualTo(Tasks.Cancellation.NOT_FOUND);
        }
        assertThat(db.strings("SELECT n::text FROM handled")).containsExactly("1");
    }

    @Test
    void aCancelledTaskNeverRuns() throws Exception {
        long id = publisher.publish(db.dataSource(), ORDERS, new Order(1), KEY.runAt(java.time.Instant.now().plusSeconds(2)));
        assertThat(Tasks.of(db.dataSource()).cancel(id)).isEqualTo(Tasks.Cancellation.CANCELLED);
        try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            publisher.publish(db.dataSource(), ORDERS, new Order(2));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        assertThat(db.strings("SELECT n::text FROM handled")).containsExactly("2");
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification WHERE id = " + id)).as("cancelled, gone").isZero();
    }

    /**
     * A cancel that waits: a task whose handler fails while it waits is pending again, and cancelled
     * (its handler ran once); one whose handler succeeds is NOT_FOUND; without waiting, RUNNING.
     */
    @Test
    void aCancelThatWaitsCancelsATaskWhoseHandlerFailsAndFindsADoneOneGone() throws Exception {
        java.util.Map<Long, CountDownLatch> running = java.util.Map.of(1L, new CountDownLatch(1), 2L, new CountDownLatch(1));
        java.util.Map<Long, CountDownLatch> release = java.util.Map.of(1L, new CountDownLatch(1), 2L, new CountDownLatch(1));
        RetryPolicy later = new RetryPolicy(5, Duration.ofSeconds(30), Duration.ofSeconds(60), 0);
        Tasks tasks = Tasks.of(db.dataSource());
        try (Listener listener = listenerFor(db).retryPolicy(later).recoverOnStart(false).on(ORDERS, (o, ctx) -> {
            recordHandled(ctx, o.n(), "x");
            running.get(o.n()).countDown();
            release.get(o.n()).await(AWAIT.toSeconds(), TimeUnit.SECONDS);
            if (o.n() == 1) {
                throw new IllegalStateException("fails");
            }
        }).start()) {
            long failing = publisher.publish(db.dataSource(), ORDERS, new Order(1), KEY);
            assertThat(running.get(1L).await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(tasks.cancel(failing, Duration.ZERO)).isEqualTo(Tasks.Cancellation.RUNNING);
            CompletableFuture<Tasks.Cancellation> byKey = CompletableFuture.supplyAsync(
                    () -> tasks.cancel("orders", "order-42", AWAIT));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !byKey.isDone());
            release.get(1L).countDown();
            assertThat(byKey.get(AWAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Tasks.Cancellation.CANCELLED);
            assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).as("cancelled after its failure").isZero();

            long succeeding = publisher.publish(db.dataSource(), ORDERS, new Order(2));
            assertThat(running.get(2L).await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Tasks.Cancellation> byId = CompletableFuture.supplyAsync(() -> tasks.cancel(succeeding, AWAIT));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !byId.isDone());
            release.get(2L).countDown();
            assertThat(byId.get(AWAIT.toSeconds(), TimeUnit.SECONDS)).as("its handler succeeded while the cancel waited")
                    .isEqualTo(Tasks.Cancellation.NOT_FOUND);
        }
        assertThat(db.strings("SELECT n::text FROM handled ORDER BY n")).containsExactly("2");
        assertThatThrownBy(() -> tasks.cancel(1, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wait is PT-1S");
    }
}
