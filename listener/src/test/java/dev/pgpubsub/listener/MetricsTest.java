package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.INVOICES;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Invoice;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.listener.micrometer.PgPubSubMetrics;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Micrometer metrics, asserted in a SimpleMeterRegistry, across every way a task can go. */
@PostgresTest
class MetricsTest {

    private static final RetryPolicy FAST = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);

    private final TestDatabase db;
    private final MeterRegistry registry = new SimpleMeterRegistry();

    MetricsTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    private double counter(String name, String channel) {
        var c = registry.find(name).tag("channel", channel).counter();
        return c == null ? 0 : c.count();
    }

    private Timer handlerTimer(String channel, String outcome) {
        return registry.find("pgpubsub.handler.duration").tag("channel", channel).tag("outcome", outcome).timer();
    }

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    private void publish(PgPubSubMetrics metrics, long from, long to) {
        Publisher publisher = Publisher.builder().observer(metrics).build();
        List<Order> orders = LongStream.range(from, to).mapToObj(Order::new).toList();
        publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(ORDERS, orders));
    }

    @Test
    void successCountsPublishedClaimedSucceededTheHandlerTimeTheLagAndTheBatchSize() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry);
        publish(metrics, 1, 6);
        Publisher.builder().observer(metrics).build().publish(db.dataSource(), ORDERS, new Order(6));
        assertThat(counter("pgpubsub.tasks.published", "orders")).isEqualTo(6);
        try (Listener listener = listenerFor(db).workers(1).batchSize(10).recoverOnStart(false).observer(metrics)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "m")).start()) {
            await().atMost(AWAIT).until(() -> counter("pgpubsub.tasks.succeeded", "orders") == 6);
            assertThat(counter("pgpubsub.tasks.claimed", "orders")).isEqualTo(6);
            assertThat(counter("pgpubsub.tasks.failed", "orders")).isZero();
            assertThat(counter("pgpubsub.tasks.retried", "orders")).isZero();
            assertThat(counter("pgpubsub.tasks.dead.lettered", "orders")).isZero();
            assertThat(handlerTimer("orders", "success").count()).isEqualTo(6);
            assertThat(handlerTimer("orders", "failure").count()).isZero();
            Timer lag = registry.get("pgpubsub.tasks.lag").tag("channel", "orders").timer();
            assertThat(lag.count()).isEqualTo(6);
            assertThat(lag.max(TimeUnit.SECONDS)).isBetween(0.0, 30.0);
            var batch = registry.get("pgpubsub.batch.size").tag("channel", "orders").summary();
            assertThat(batch.totalAmount()).isEqualTo(6);
            assertThat(gauge("pgpubsub.listener.workers.live")).isEqualTo(1);
            assertThat(gauge("pgpubsub.listener.listen.connected")).isEqualTo(1);
            assertThat(gauge("pgpubsub.listener.threads.abandoned")).isZero();
            assertThat(listener.stats().liveWorkers()).isEqualTo(1);
        }
        // A closed listener is no longer summed.
        assertThat(gauge("pgpubsub.listener.workers.live")).isZero();
        assertThat(gauge("pgpubsub.listener.listen.connected")).isZero();
    }

    @Test
    void aFailureIsRetriedAndTheLastGoesToTheDeadLetters() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry);
        publish(metrics, 1, 5);
        try (Listener listener = listenerFor(db).workers(1).batchSize(10).recoverOnStart(false).retryPolicy(FAST)
                .observer(metrics)
                .on(ORDERS, (o, ctx) -> {
                    if (o.n() == 2) {
                        throw new IllegalStateException("task 2 always fails");
                    }
                    recordHandled(ctx, o.n(), "m");
                }).start()) {
            await().atMost(AWAIT).until(() -> counter("pgpubsub.tasks.dead.lettered", "orders") == 1);
            assertThat(counter("pgpubsub.tasks.succeeded", "orders")).isEqualTo(3);
            assertThat(counter("pgpubsub.tasks.failed", "orders")).isEqualTo(2);
            assertThat(counter("pgpubsub.tasks.retried", "orders")).isEqualTo(1);
            assertThat(handlerTimer("orders", "failure").count()).isEqualTo(2);
            // The batch-mates of the failure ran again after the rollback: every call is timed.
            assertThat(handlerTimer("orders", "success").count()).isGreaterThanOrEqualTo(3);
            assertThat(listener.stats().tasksFailed()).isEqualTo(2);
        }
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.dead_letter")).isEqualTo(1);
    }

    @Test
    void aHandlerTimeoutIsTimedAsSuchAndItsThreadCountedAsAbandoned() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry);
        CountDownLatch never = new CountDownLatch(1);
        publish(metrics, 1, 4);
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(false).retryPolicy(FAST)
                .handlerTimeout(Duration.ofSeconds(1)).observer(metrics)
                .on(ORDERS, (o, ctx) -> {
                    if (o.n() == 2 && ctx.attempt() == 1) {
                        while (never.getCount() > 0) {
                            try {
                                never.await();
                            } catch (InterruptedException ignored) {
                                // hangs on, as a stuck handler does
                            }
                        }
                    }
                    recordHandled(ctx, o.n(), "m");
                }).start()) {
            await().atMost(AWAIT).until(() -> counter("pgpubsub.tasks.succeeded", "orders") == 3);
            Timer timeout = handlerTimer("orders", "timeout");
            assertThat(timeout.count()).isEqualTo(1);
            assertThat(timeout.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(1_000);
            assertThat(counter("pgpubsub.tasks.failed", "orders")).isEqualTo(1);
            assertThat(counter("pgpubsub.tasks.retried", "orders")).isEqualTo(1);
            assertThat(gauge("pgpubsub.listener.threads.abandoned")).isEqualTo(1);
            assertThat(gauge("pgpubsub.listener.workers.live")).isEqualTo(1); // replaced
        } finally {
            never.countDown();
        }
    }

    @Test
    void startUpRecoveryCountsItsTasksAndReportsItsProgress() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry);
        publish(metrics, 1, 21);
        try (Listener listener = listenerFor(db).workers(2).batchSize(5).observer(metrics)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "m")).start()) {
            await().atMost(AWAIT).until(() -> counter("pgpubsub.tasks.succeeded", "orders") == 20);
            await().atMost(AWAIT).until(() -> !listener.stats().recovering());
            assertThat(counter("pgpubsub.recovery.tasks", "orders")).isEqualTo(listener.stats().recoveredTasks())
                    .isEqualTo(20);
            assertThat(gauge("pgpubsub.recovery.remaining")).isZero();
            assertThat(gauge("pgpubsub.recovery.active")).isZero();
        }
    }

    @Test
    void theQueueIsMeasuredBoundedByTheCapWithTheAgeOfItsOldestDueTask() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry, PgPubSubMetrics.Options.defaults()
                .withQueueDepthInterval(Duration.ofMillis(200)).withQueueDepthCap(25));
        publish(metrics, 1, 31);
        db.execute("UPDATE pgpubsub.notification SET run_at = now() - interval '1 hour' WHERE payload->>'n' = '1'");
        Publisher.create().inNewTransaction(db.dataSource(), (tx, c) -> tx.publish(INVOICES, new Invoice(1),
                java.time.Instant.now().plus(Duration.ofHours(1)))); // not due: not counted
        CountDownLatch release = new CountDownLatch(1);
        // One worker holds its first task: the rest stay queued while the gauges are read.
        try (Listener listener = listenerFor(db).workers(1).batchSize(1).recoverOnStart(false).observer(metrics)
                .on(ORDERS, (o, ctx) -> release.await())
                .on(INVOICES, (i, ctx) -> { })
                .start()) {
            await().atMost(AWAIT).until(() -> registry.find("pgpubsub.queue.depth").tag("channel", "orders").gauge() != null
                    && registry.find("pgpubsub.queue.depth").tag("channel", "orders").gauge().value() == 25);
            assertThat(registry.get("pgpubsub.queue.depth").tag("channel", "invoices").gauge().value()).isZero();
            double oldest = registry.get("pgpubsub.queue.oldest.age").tag("channel", "orders").timeGauge()
                    .value(TimeUnit.SECONDS);
            assertThat(oldest).isBetween(3_500.0, 3_700.0);
            assertThat(registry.get("pgpubsub.queue.oldest.age").tag("channel", "invoices").timeGauge()
                    .value(TimeUnit.SECONDS)).isZero();
            // Drained: measured again as empty.
            db.execute("DELETE FROM pgpubsub.notification WHERE channel = 'orders' AND payload->>'n' <> '1'");
            release.countDown();
            await().atMost(AWAIT).until(() -> registry.get("pgpubsub.queue.depth").tag("channel", "orders").gauge()
                    .value() == 0);
        } finally {
            release.countDown();
        }
    }

    @Test
    void theChannelTagTakesAtMostTheCapOfValuesAndTheRestAreCountedAsOther() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry, PgPubSubMetrics.Options.defaults().withMaxChannelTags(2));
        Publisher publisher = Publisher.builder().observer(metrics).build();
        for (String name : List.of("c1", "c2", "c3", "c4", "c3")) {
            publisher.publish(db.dataSource(), Channel.of(name, Order.class), new Order(1));
        }
        assertThat(counter("pgpubsub.tasks.published", "c1")).isEqualTo(1);
        assertThat(counter("pgpubsub.tasks.published", "c2")).isEqualTo(1);
        assertThat(counter("pgpubsub.tasks.published", PgPubSubMetrics.OTHER)).isEqualTo(3);
        Set<String> channels = registry.find("pgpubsub.tasks.published").meters().stream()
                .map(m -> m.getId().getTag("channel")).collect(Collectors.toSet());
        assertThat(channels).containsExactlyInAnyOrder("c1", "c2", PgPubSubMetrics.OTHER);
        // The listener's meters share the cap: its channels past it count as _other.
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(false).observer(metrics)
                .on(Channel.of("c1", Order.class), (o, ctx) -> { })
                .on(Channel.of("c3", Order.class), (o, ctx) -> { })
                .on(Channel.of("c4", Order.class), (o, ctx) -> { }).start()) {
            await().atMost(AWAIT).until(() -> counter("pgpubsub.tasks.succeeded", PgPubSubMetrics.OTHER) == 3);
            assertThat(counter("pgpubsub.tasks.succeeded", "c1")).isEqualTo(1);
        }
        assertThat(registry.getMeters().stream().map(m -> m.getId().getTag("channel")).filter(c -> c != null)
                .collect(Collectors.toSet())).containsExactlyInAnyOrder("c1", "c2", PgPubSubMetrics.OTHER);
    }

    @Test
    void aLostListenConnectionCountsAReconnect() throws Exception {
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry);
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(false).observer(metrics)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "m")).start()) {
            assertThat(gauge("pgpubsub.listener.listen.connected")).isEqualTo(1);
            db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND application_name LIKE 'pgpubsub-%-listen %'");
            await().atMost(AWAIT).until(() -> registry.get("pgpubsub.listener.reconnects").counter().count() == 1);
            assertThat(listener.stats().reconnects()).isEqualTo(1);
            await().atMost(AWAIT).until(() -> gauge("pgpubsub.listener.listen.connected") == 1);
        }
    }

    @Test
    void aThrowingObserverDoesNotFailTheTask() throws Exception {
        ListenerObserver broken = new ListenerObserver() {
            @Override
            public void handlerStarting(String channel, long lagNanos) {
                throw new IllegalStateException("a broken observer");
            }
        };
        Fixtures.publishOrders(db, 1, 3);
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(false).observer(broken)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "m")).start()) {
            await().atMost(AWAIT).until(() -> listener.stats().tasksDone() == 2);
            assertThat(listener.stats().tasksFailed()).isZero();
        }
    }
}
