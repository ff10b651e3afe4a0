package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

/**
 * Workers are supervised: whatever stops one (an Error outside a handler, a frozen connection under
 * the library's own statements, a handler that never returns) is replaced, or, when none can be,
 * the listener fails loudly instead of going quiet.
 */
@PostgresTest
class WorkerSupervisionTest {

    private static final RetryPolicy TWICE = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(50), 0.2);

    private final TestDatabase db;

    WorkerSupervisionTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    /** An Error while reading one payload (outside the handler) fails that task; the worker lives on. */
    @Test
    void anErrorOutsideTheHandlerFailsItsTaskAndTheWorkerCarriesOn() throws Exception {
        SimpleModule module = new SimpleModule().addDeserializer(Order.class, new ValueDeserializer<>() {
            @Override
            public Order deserialize(JsonParser p, DeserializationContext ctxt) {
                long n = ctxt.readTree(p).get("n").asLong();
                if (n == 3) {
                    throw new OutOfMemoryError("simulated: no heap left to read this payload");
                }
                return new Order(n);
            }
        });
        JsonMapper mapper = JsonMapper.builder().addModule(module).build();
        Fixtures.publishOrders(db, 1, 6);
        try (Listener listener = listenerFor(db).workers(1).batchSize(5).retryPolicy(TWICE).jsonMapper(mapper)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1
                    && count(db, "SELECT count(*) FROM handled") == 4);
            // The worker is alive: a task published now is handled.
            Publisher.create().inNewTransaction(db.dataSource(), (tx, c) -> tx.publish(ORDERS, new Order(6)));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 5);
            assertThat(listener.failure()).isEmpty();
        }
        assertThat(db.strings("SELECT reason || ' / ' || (errors->-1->>'error') FROM pgpubsub.dead_letter"))
                .singleElement().asString().contains("failed 2 of 2").contains("OutOfMemoryError");
        assertThat(db.strings("SELECT n::text FROM handled ORDER BY n")).containsExactly("1", "2", "4", "5", "6");
    }

    /**
     * A worker connection that goes half-open under the library's own statements (here: the claim)
     * is aborted after the statement timeout; while the database stays unreachable that way, the
     * outage limit ends the listener.
     */
    @Test
    void aFrozenWorkerConnectionUnderTheClaimIsAbortedAndCountsTowardsTheOutageLimit() throws Exception {
        AtomicReference<Throwable> reported = new AtomicReference<>();
        try (FreezableProxy proxy = new FreezableProxy(db.port())) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl("jdbc:postgresql://localhost:" + proxy.port() + "/" + db.name());
            config.setUsername(db.user());
            config.setPassword(db.password());
            config.setMaximumPoolSize(3);
            config.setMinimumIdle(3); // 1 worker, 1 for recovery, 1 for bookkeeping
            config.setConnectionTimeout(2_000);
            try (HikariDataSource pool = new HikariDataSource(config);
                    Listener listener = listenerFor(db).dataSource(pool).workers(1).recoverOnStart(false)
                            .statementTimeout(Duration.ofMillis(500)).outageLimit(Duration.ofSeconds(3))
                            .onFailure(reported::set)
                            .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
                Fixtures.publishOrders(db, 1, 2);
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
                proxy.freezeExisting(); // every pooled connection now swallows what is sent to it
                Fixtures.publishOrders(db, 2, 3);
                await().atMost(Duration.ofSeconds(60)).until(() -> listener.failure().isPresent());
                await().atMost(AWAIT).until(() -> reported.get() != null);
            }
        }
    }

    /**
     * Handlers that hang and ignore interrupts are abandoned. Once no worker is left and none may be
     * replaced (the cap on abandoned threads), the listener fails instead of going quiet.
     */
    @Test
    void whenNoWorkerIsLeftTheListenerFailsInsteadOfGoingQuiet() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        AtomicReference<Throwable> reported = new AtomicReference<>();
        try (Listener listener = listenerFor(db).workers(1).maxAbandonedThreads(0).retryPolicy(TWICE)
                .handlerTimeout(Duration.ofMillis(300)).onFailure(reported::set)
                .on(ORDERS, (o, ctx) -> {
                    while (never.getCount() > 0) {
                        try {
                            never.await();
                        } catch (InterruptedException ignored) {
                            // deaf to interruption, as a stuck handler is
                        }
                    }
                }).start()) {
            Fixtures.publishOrders(db, 1, 2);
            await().atMost(AWAIT).until(() -> listener.failure().isPresent());
            assertThat(listener.failure().get()).hasMessageContaining("no worker");
            await().atMost(AWAIT).until(() -> reported.get() != null);
        } finally {
            never.countDown();
        }
    }

    /** Payloads are loaded within a byte budget per batch, so a batch of large ones cannot exhaust the heap. */
    @Test
    void aBatchOfLargePayloadsIsLoadedWithinTheBatchByteBudget() throws Exception {
        String big = "x".repeat(600_000);
        List<Big> payloads = LongStream.range(0, 10).mapToObj(n -> new Big(n, big)).toList();
        Publisher.create().inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(BIG, payloads));
        try (Listener listener = listenerFor(db).workers(1).batchSize(100).maxBatchBytes(2_000_000)
                .on(BIG, (b, ctx) -> recordHandled(ctx, b.n(), "x")).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(listener.stats().batches()).as("batches of at most 3 payloads of 0.6 MB").isGreaterThanOrEqualTo(4);
        }
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(10);
    }

    /**
     * Large payloads at a small heap: loading a whole batch of them at once ran out of memory outside
     * any handler, which killed the worker thread for good (its transaction, holding the rows, stayed
     * open). Batches are loaded within a byte budget now, and a worker survives any Error.
     */
    @Test
    void aBacklogOfLargePayloadsDrainsInASmallHeap() throws Exception {
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) SELECT 'orders', "
                + "jsonb_build_object('n', g, 'pad', repeat('x', 6000000)) FROM generate_series(1, 12) g");
        try (ForkedJvm child = ForkedJvm.start(ListenerProcess.class, List.of("-Xmx128m"), db.jdbcUrl(), db.user(),
                db.password().isEmpty() ? "-" : db.password(), "child", "0", "3", "2")) {
            assertThat(child.await(Duration.ofSeconds(60))).isEqualTo("READY");
            await().atMost(Duration.ofSeconds(90)).until(() -> count(db, "SELECT count(*) FROM handled") == 12);
            assertThat(child.stop(Duration.ofSeconds(60))).isZero();
        }
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isZero();
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(12);
    }

    record Big(long n, String text) {
    }

    static final dev.pgpubsub.core.Channel<Big> BIG = dev.pgpubsub.core.Channel.of("big", Big.class);
}
