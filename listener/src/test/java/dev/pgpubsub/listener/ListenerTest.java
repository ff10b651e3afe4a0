package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.INVOICES;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static dev.pgpubsub.listener.Fixtures.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Invoice;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Claiming and running: one listener at a time, against a real Postgres. */
@PostgresTest
class ListenerTest {

    /** Long enough that only wake-ups and due-time timers, never the safety net, drive these tests. */
    private static final Duration NO_POLL = Duration.ofHours(1);

    private final TestDatabase db;
    private final Publisher publisher = Publisher.create();

    ListenerTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
    }

    @Test
    void aPublishedTaskRunsOnceInTheClaimingTransactionAndIsDeleted() throws Exception {
        List<TaskContext> seen = new CopyOnWriteArrayList<>();
        List<String> contexts = new CopyOnWriteArrayList<>();
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL).on(ORDERS, (order, ctx) -> {
            recordHandled(ctx, order.n(), "one");
            seen.add(ctx);
            contexts.add(ctx.channel() + " " + ctx.attempt() + " " + JooqTasks.dsl(ctx).fetchValue("SELECT count(*) FROM handled"));
        }).start()) {
            Instant before = Instant.now().minusSeconds(5);
            long id = publisher.publish(db.dataSource(), ORDERS, new Order(42));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            assertThat(strings(db, "SELECT task_id || ' ' || n || ' ' || attempt FROM handled")).containsExactly(id + " 42 1");
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(seen).singleElement().satisfies(ctx -> {
                assertThat(ctx.id()).isEqualTo(id);
                assertThat(ctx.publishedAt()).isAfter(before).isBefore(Instant.now());
            });
            // The handler saw its own uncommitted insert: it runs inside the claiming transaction.
            assertThat(contexts).containsExactly("orders 1 1");
            assertThat(listener.stats().tasksDone()).isEqualTo(1);
        }
    }

    @Test
    void annotatedHandlerBeansAreCalledWithPayloadAndContext() throws Exception {
        OrderBean bean = new OrderBean();
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL).handlers(bean).start()) {
            publisher.publish(db.dataSource(), ORDERS, new Order(1));
            publisher.publish(db.dataSource(), INVOICES, new Invoice(2));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
            assertThat(strings(db, "SELECT by || n FROM handled ORDER BY n")).containsExactly("orders1", "invoices2");
            assertThat(listener.channels()).containsExactlyInAnyOrder("orders", "invoices");
        }
    }

    public static class OrderBean {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            recordHandled(context, order.n(), "orders");
        }

        @Listen("invoices")
        public void onInvoice(TaskContext context, Invoice invoice) throws SQLException {
            recordHandled(context, invoice.n(), "invoices");
        }
    }

    @Test
    void aHandlerThatWritesAndThenThrowsHasItsWriteRolledBack() throws Exception {
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL).retryBackoff(Duration.ofHours(1), Duration.ofHours(1))
                .on(ORDERS, (order, ctx) -> {
                    recordHandled(ctx, order.n(), "doomed");
                    throw new IllegalStateException("payment service said no to order " + order.n());
                }).start()) {
            publisher.publish(db.dataSource(), ORDERS, new Order(7));
            await().atMost(AWAIT).until(() -> listener.stats().tasksFailed() == 1);
            assertThat(count(db, "SELECT count(*) FROM handled")).isZero();
            // Due again in an hour, less up to 20 % of jitter.
            assertThat(strings(db, "SELECT attempts || ' ' || last_error || ' ' || (run_at > now() + interval '47 minutes') "
                    + "FROM pgpubsub.notification")).containsExactly(
                    "1 java.lang.IllegalStateException: payment service said no to order 7 true");
        }
    }

    @Test
    void failedTasksAreRetriedAfterTheirDelayWithoutANewNotifyAndTheOthersAreDone() throws Exception {
        Map<Long, List<Long>> attemptsAt = new ConcurrentHashMap<>();
        Duration initial = Duration.ofMillis(300);
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL).batchSize(10)
                .retryPolicy(RetryPolicy.DEFAULT.withDelays(initial, Duration.ofSeconds(10)).withJitter(0))
                .on(ORDERS, (order, ctx) -> {
                    attemptsAt.computeIfAbsent(order.n(), k -> Collections.synchronizedList(new ArrayList<>()))
                            .add(System.nanoTime());
                    recordHandled(ctx, order.n(), "x");
                    // Every third task fails on its first two attempts.
                    if (order.n() % 3 == 0 && ctx.attempt() < 3) {
                        throw new IllegalStateException("not yet");
                    }
                }).start()) {
            Fixtures.publishOrders(db, 0, 30);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 30);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);

            assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(30);
            assertThat(strings(db, "SELECT DISTINCT attempt FROM handled WHERE n % 3 = 0")).containsExactly("3");
            assertThat(strings(db, "SELECT DISTINCT attempt FROM handled WHERE n % 3 <> 0")).containsExactly("1");
            assertThat(listener.stats().tasksFailed()).isEqualTo(20);
            assertThat(listener.stats().wakeUps()).as("one publish, one wake-up: retries need none").isEqualTo(1);
            for (long n = 0; n < 30; n += 3) {
                List<Long> at = attemptsAt.get(n);
                // Handlers ran exactly three times (no hot loop), each retry after its backoff (300 ms, then 600 ms).
                assertThat(at).as("calls of task %d", n).hasSize(3);
                assertThat(Duration.ofNanos(at.get(1) - at.get(0))).isGreaterThanOrEqualTo(initial.minusMillis(20));
                assertThat(Duration.ofNanos(at.get(2) - at.get(1))).isGreaterThanOrEqualTo(initial.multipliedBy(2).minusMillis(20));
            }
        }
    }

    @Test
    void aListenerLeavesTheRowsOfChannelsItDoesNotServeAlone() throws Exception {
        try (Listener listener = listenerFor(db).pollInterval(Duration.ofMillis(100))
                .on(ORDERS, (order, ctx) -> recordHandled(ctx, order.n(), "orders")).start()) {
            publisher.publish(db.dataSource(), INVOICES, new Invoice(1));
            publisher.publish(db.dataSource(), ORDERS, new Order(2));
            await().atMost(AWAIT).until(() -> listener.stats().turns() >= 5);
            assertThat(strings(db, "SELECT n FROM handled")).containsExactly("2");
            assertThat(strings(db, "SELECT channel || ' ' || attempts FROM pgpubsub.notification")).containsExactly("invoices 0");
        }
    }

    @Test
    void withOneWorkerAChannelsTasksRunInIdOrder() throws Exception {
        List<Long> order = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 100; i++) {
            publisher.publish(db.dataSource(), ORDERS, new Order(i));
        }
        try (Listener listener = listenerFor(db).workers(1).batchSize(7).pollInterval(NO_POLL)
                .on(ORDERS, (o, ctx) -> order.add(ctx.id())).start()) {
            await().atMost(AWAIT).until(() -> order.size() == 100);
        }
        assertThat(order).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void aDelayedTaskRunsWhenDueWithoutANewNotify() throws Exception {
        List<Long> ranAt = new CopyOnWriteArrayList<>();
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL)
                .on(ORDERS, (o, ctx) -> ranAt.add(System.currentTimeMillis())).start()) {
            long publishedAt = System.currentTimeMillis();
            publisher.inNewTransaction(db.dataSource(),
                    (tx, c) -> tx.publish(ORDERS, new Order(1), Instant.now().plusMillis(1_500)));
            await().atMost(AWAIT).until(() -> ranAt.size() == 1);
            assertThat(ranAt.get(0) - publishedAt).isGreaterThanOrEqualTo(1_400);
            assertThat(listener.stats().wakeUps()).isEqualTo(1);
        }
    }

    @Test
    void theHandlersConnectionRefusesToEndTheTransaction() throws Exception {
        List<String> refusals = new CopyOnWriteArrayList<>();
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL).on(ORDERS, (o, ctx) -> {
            Connection c = ctx.connection();
            for (String call : List.of("commit", "rollback", "close", "setAutoCommit")) {
                try {
                    switch (call) {
                        case "commit" -> c.commit();
                        case "rollback" -> c.rollback();
                        case "close" -> c.close();
                        default -> c.setAutoCommit(true);
                    }
                    refusals.add(call + " allowed");
                } catch (SQLException e) {
                    refusals.add(e.getMessage());
                }
            }
            var savepoint = c.setSavepoint();
            recordHandled(ctx, o.n(), "undone");
            c.rollback(savepoint);
            recordHandled(ctx, o.n(), "kept");
        }).start()) {
            publisher.publish(db.dataSource(), ORDERS, new Order(3));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        assertThat(refusals).hasSize(4).allSatisfy(message -> assertThat(message)
                .contains("may not end the transaction").contains("Return to commit; throw to roll back"));
        assertThat(strings(db, "SELECT by FROM handled")).containsExactly("kept");
    }

    @Test
    void aStormOfWakeUpsBecomesAHandfulOfClaimTurns() throws Exception {
        try (Listener listener = listenerFor(db).pollInterval(NO_POLL)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "storm")).start()) {
            await().atMost(AWAIT).until(() -> listener.stats().turns() >= 1);
            long turnsBefore = listener.stats().turns();
            // 100,000 distinct notifications (distinct payloads are not folded), then one real task.
            Fixtures.execute(db, "SELECT pg_notify('pgpubsub.orders', g::text) FROM generate_series(1, 100000) g");
            publisher.publish(db.dataSource(), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> listener.stats().wakeUps() == 100_001);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            long turns = listener.stats().turns() - turnsBefore;
            assertThat(turns).as("claim turns for 100,001 wake-ups").isBetween(1L, 60L);
        }
    }
}
