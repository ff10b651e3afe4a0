package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Unique keys and cancellation through the Java API. */
@PostgresTest
class UniqueKeysTest {

    record Invoice(long order, int version) {
    }

    static final Channel<Invoice> INVOICES = Channel.of("invoices", Invoice.class);
    private static final Duration BOUND = Duration.ofSeconds(20);

    private final TestDatabase db;
    private final Publisher publisher = Publisher.create();

    UniqueKeysTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void eightThreadsPublishingTheSameHundredKeysLeaveExactlyHundredTasks(boolean replace) throws Exception {
        PublishOptions mode = replace ? PublishOptions.defaults().replace() : PublishOptions.defaults();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(threads.submit(() -> {
                    int retried = 0;
                    try (Connection c = db.connect()) {
                        c.setAutoCommit(false);
                        for (int i = 0; i < 1_000; i++) {
                            int k = ThreadLocalRandom.current().nextInt(100);
                            Invoice payload = new Invoice(k, thread * 1_000 + i);
                            while (true) {
                                try {
                                    publisher.in(c).publish(INVOICES, payload, mode.key("order-" + k));
                                    c.commit();
                                    break;
                                } catch (PgPubSubException e) {
                                    c.rollback();
                                    // Replace refuses a row another replacing transaction holds: retry, as documented.
                                    assertThat(replace).as("keep never refuses: %s", e.getMessage()).isTrue();
                                    assertThat(((SQLException) e.getCause()).getSQLState()).isEqualTo("55P03");
                                    retried++;
                                }
                            }
                        }
                    }
                    return retried;
                }));
            }
            for (Future<Integer> f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(100);
        assertThat(db.number("SELECT count(DISTINCT key) FROM pgpubsub.notification")).isEqualTo(100);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification WHERE key <> 'order-' || (payload->>'order')"))
                .isZero();
    }

    /** Two dead letters with one key: re-queuing both moves the newest and leaves the other, never fails. */
    @Test
    void deadLettersSharingAKeyAreRequeuedOneAtATime() throws SQLException {
        db.execute("DELETE FROM pgpubsub.dead_letter");
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason, key, dead_at) VALUES "
                + "(9001, 'orders', '{\"orderId\": 1}', now(), 3, 'failed 3 of 3 attempts', 'order-1', now() - interval '1 hour'),"
                + "(9002, 'orders', '{\"orderId\": 1}', now(), 3, 'failed 3 of 3 attempts', 'order-1', now()),"
                + "(9003, 'orders', '{\"orderId\": 3}', now(), 3, 'failed 3 of 3 attempts', NULL, now())");

        assertThat(DeadLetters.of(db.dataSource()).requeueChannel("orders")).isEqualTo(2);
        assertThat(db.strings("SELECT id::text FROM pgpubsub.notification ORDER BY id")).containsExactly("9002", "9003");
        assertThat(db.strings("SELECT id::text FROM pgpubsub.dead_letter")).containsExactly("9001");
        // Its key is held now: it stays until that task is done.
        assertThat(DeadLetters.of(db.dataSource()).requeue(9001)).isZero();
        db.execute("DELETE FROM pgpubsub.notification");
        assertThat(DeadLetters.of(db.dataSource()).requeue(9001)).isEqualTo(1);
        db.execute("DELETE FROM pgpubsub.notification");
    }

    @Test
    void replaceChangesThePendingTaskAndKeepLeavesIt() throws SQLException {
        Instant later = Instant.now().plusSeconds(3600);
        long first = publisher.publish(db.dataSource(), INVOICES, new Invoice(42, 1),
                PublishOptions.defaults().key("order-42:invoice").runAt(later));
        long kept = publisher.publish(db.dataSource(), INVOICES, new Invoice(42, 2),
                PublishOptions.defaults().key("order-42:invoice"));
        assertThat(kept).isEqualTo(first);
        assertThat(db.strings("SELECT (payload->>'version') || ':' || (run_at > now()) FROM pgpubsub.notification"))
                .containsExactly("1:true");
        long replaced = publisher.publish(db.dataSource(), INVOICES, new Invoice(42, 3),
                PublishOptions.defaults().key("order-42:invoice").replace());
        assertThat(replaced).isEqualTo(first);
        assertThat(db.strings("SELECT (payload->>'version') || ':' || (run_at > now()) FROM pgpubsub.notification"))
                .containsExactly("3:false");
    }

    @Test
    void aKeyedBatchReturnsEachKeysIdInTheMapsOrder() throws SQLException {
        long pending = publisher.publish(db.dataSource(), INVOICES, new Invoice(2, 0), PublishOptions.defaults().key("b"));
        Map<String, Invoice> batch = new LinkedHashMap<>();
        batch.put("c", new Invoice(3, 1));
        batch.put("b", new Invoice(2, 1));
        batch.put("a", new Invoice(1, 1));
        Map<String, Long> ids = publisher.inNewTransaction(db.dataSource(),
                (tx, c) -> tx.publishAll(INVOICES, batch, PublishOptions.defaults().replace()));
        assertThat(ids.keySet()).containsExactly("c", "b", "a");
        assertThat(ids.get("b")).isEqualTo(pending);
        assertThat(ids.get("a")).as("keys are taken in sorted order").isLessThan(ids.get("c"));
        assertThat(db.strings("SELECT key || ':' || (payload->>'version') FROM pgpubsub.notification ORDER BY key"))
                .containsExactly("a:1", "b:1", "c:1");
    }

    @Test
    void aPublishDoesNotWaitForTheRunningTaskThatHoldsItsKey() throws Exception {
        long id = publisher.publish(db.dataSource(), INVOICES, new Invoice(42, 1), PublishOptions.defaults().key("k"));
        try (Connection claim = db.connect()) {
            UniqueKeyFunctionTest.claimAsAListenerDoes(claim, id);
            CompletableFuture<Long> kept = CompletableFuture.supplyAsync(() -> publisher.publish(db.dataSource(), INVOICES,
                    new Invoice(42, 2), PublishOptions.defaults().key("k")));
            assertThat(kept.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(id);
            CompletableFuture<Long> replaced = CompletableFuture.supplyAsync(() -> publisher.publish(db.dataSource(),
                    INVOICES, new Invoice(42, 3), PublishOptions.defaults().key("k").replace()));
            assertThatThrownBy(() -> replaced.get(BOUND.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("(SQLSTATE 55P03)").hasMessageContaining("Roll the transaction back, and retry");
            CompletableFuture<Tasks.Cancellation> cancelled = CompletableFuture.supplyAsync(
                    () -> Tasks.of(db.dataSource()).cancel(id));
            assertThat(cancelled.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Tasks.Cancellation.RUNNING);
            claim.commit();
        }
        assertThat(publisher.publish(db.dataSource(), INVOICES, new Invoice(42, 4), PublishOptions.defaults().key("k")))
                .as("free once the task is done").isNotEqualTo(id);
    }

    @Test
    void cancelRemovesPendingTasksByIdAndByKey() throws SQLException {
        long plain = publisher.publish(db.dataSource(), INVOICES, new Invoice(1, 1));
        long keyed = publisher.publish(db.dataSource(), INVOICES, new Invoice(2, 1), PublishOptions.defaults().key("k"));
        Tasks tasks = Tasks.of(db.dataSource());
        assertThat(tasks.cancel(plain)).isEqualTo(Tasks.Cancellation.CANCELLED);
        assertThat(tasks.cancel(plain)).isEqualTo(Tasks.Cancellation.NOT_FOUND);
        assertThat(tasks.cancel("invoices", "k")).isEqualTo(Tasks.Cancellation.CANCELLED);
        assertThat(tasks.cancel("invoices", "k")).isEqualTo(Tasks.Cancellation.NOT_FOUND);
        assertThat(tasks.cancel(keyed)).isEqualTo(Tasks.Cancellation.NOT_FOUND);
        assertThat(tasks.cancel(123_456_789L)).isEqualTo(Tasks.Cancellation.NOT_FOUND);
    }

    @Test
    void badKeysAreRefusedBeforeAnySqlNamingTheValueAndTheFix() {
        assertThatThrownBy(() -> PublishOptions.defaults().key(" "))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("The key \" \" is blank: pass a key that names "
                        + "the task, e.g. \"order-42:invoice\"");
        assertThatThrownBy(() -> PublishOptions.defaults().key("x".repeat(257)))
                .hasMessageContaining("is 257 bytes of UTF-8, more than 256: use a shorter key");
        assertThatThrownBy(() -> PublishOptions.defaults().key(null)).hasMessageContaining("leave the key unset");
        assertThat(PublishOptions.defaults().key("é".repeat(128)).key()).hasSize(128);
        assertThatThrownBy(() -> publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(INVOICES,
                Map.of("a", new Invoice(1, 1)), PublishOptions.defaults().key("b"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leave the options' key unset");
        assertThatThrownBy(() -> publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(INVOICES,
                Map.of("", new Invoice(1, 1)), PublishOptions.defaults())))
                .hasMessageContaining("A key of the batch for channel 'invoices' \"\" is blank");
        assertThatThrownBy(() -> publisher.publish(db.dataSource(), INVOICES, new Invoice(1, 1), null))
                .hasMessageContaining("pass PublishOptions.defaults()");
        assertThatThrownBy(() -> Tasks.of(db.dataSource()).cancel("invoices", "")).hasMessageContaining("is blank");
    }

    @Test
    void aCancelThatFailsInTheDatabaseSaysWhatToCheck() {
        assertThatThrownBy(() -> Tasks.of(db.dataSource(), "missing_schema").cancel(7))
                .isInstanceOf(PgPubSubException.class)
                .hasMessageStartingWith("Could not cancel task 7 in schema 'missing_schema': ")
                .hasMessageEndingWith(" (SQLSTATE 3F000). Check that pgpubsub is installed there at version 7 or later "
                        + "(PgPubSub.migrate) and that the user may execute missing_schema.cancel.");
        assertThatThrownBy(() -> Tasks.of(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dataSource is null: pass the DataSource of the database pgpubsub is installed in");
        assertThatThrownBy(() -> Tasks.of(db.dataSource(), "Bad-Schema")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Schema name 'Bad-Schema' is not valid");
    }

    /**
     * Keyed batches that share keys, each map in its own random order, published at once by four
     * threads: the keys are taken in sorted order, so no transaction waits on another that waits on
     * it (a deadlock, SQLSTATE 40P01, would fail a publish), and each key has one task.
     */
    @Test
    void concurrentKeyedBatchesThatShareKeysNeverDeadlock() throws Exception {
        int rounds = 30;
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(threads.submit(() -> {
                    try (Connection c = db.connect()) {
                        c.setAutoCommit(false);
                        for (int round = 0; round < rounds; round++) {
                            List<Integer> order = new ArrayList<>(java.util.stream.IntStream.range(0, 40).boxed().toList());
                            java.util.Collections.shuffle(order);
                            Map<String, Invoice> batch = new LinkedHashMap<>();
                            for (int k : order) {
                                batch.put("round-" + round + ":" + k, new Invoice(k, thread));
                            }
                            publisher.in(c).publishAll(INVOICES, batch, PublishOptions.defaults());
                            c.commit();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES); // a deadlock would surface here as the failed publish
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(rounds * 40L);
        assertThat(db.number("SELECT count(DISTINCT key) FROM pgpubsub.notification")).isEqualTo(rounds * 40L);
    }
}
