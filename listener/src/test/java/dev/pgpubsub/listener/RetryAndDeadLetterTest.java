package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.DeadLetter;
import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retries up to a maximum of attempts, then the dead letters; poison rows go there without a handler call. */
@PostgresTest
class RetryAndDeadLetterTest {

    private static final RetryPolicy FAST = new RetryPolicy(3, Duration.ofMillis(20), Duration.ofMillis(80), 0.5);

    private final TestDatabase db;
    private final DeadLetters dead;

    RetryAndDeadLetterTest(TestDatabase db) {
        this.db = db;
        this.dead = DeadLetters.of(db.dataSource());
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    /**
     * After a failure, the batch-mates are redone. A redo slower than the claim's lease let another
     * worker count the waiting mates again, so a task that never failed could reach the dead letters.
     */
    @Test
    void aSlowRedoDoesNotGetAWaitingBatchMateChargedByAnotherWorker() throws Exception {
        Fixtures.publishOrders(db, 1, 4);
        RetryPolicy once = new RetryPolicy(1, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
        try (Listener listener = listenerFor(db).workers(2).batchSize(3).retryPolicy(once).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> {
                    if (o.n() == 1) {
                        throw new IllegalStateException("task 1 always fails");
                    }
                    if (o.n() == 2 && count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1) {
                        Thread.sleep(6_000); // a slow redo: longer than the old claim lease of 5 s
                    }
                    recordHandled(ctx, o.n(), "x");
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(listener.stats().tasksDone()).isEqualTo(2);
        }
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n")).containsExactly("2:1", "3:1");
        assertThat(db.strings("SELECT id || ' ' || reason FROM pgpubsub.dead_letter")).singleElement().asString()
                .endsWith("failed 1 of 1 attempts");
    }

    /**
     * A driver that runs each statement in a savepoint (pgjdbc's autosave) deletes the claim's rows in
     * a subtransaction: the release names that one, so the failed task's neighbours are not charged.
     */
    @Test
    void aClaimInASubtransactionIsReleasedWithoutChargingTheNeighbours() throws Exception {
        Fixtures.publishOrders(db, 1, 6);
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        config.setJdbcUrl(db.jdbcUrl() + (db.jdbcUrl().contains("?") ? "&" : "?") + "autosave=always");
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.setMaximumPoolSize(3);
        try (com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource(config);
                Listener listener = listenerFor(db).dataSource(pool).workers(1).batchSize(5).retryPolicy(FAST)
                        .on(ORDERS, (o, ctx) -> {
                            recordHandled(ctx, o.n(), "x");
                            if (o.n() == 3 && ctx.attempt() == 1) {
                                throw new IllegalStateException("task 3 fails once");
                            }
                        }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 5
                    && count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
        }
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n"))
                .containsExactly("1:1", "2:1", "3:2", "4:1", "5:1");
    }

    @Test
    void aTaskThatAlwaysFailsEndsInTheDeadLettersWithItsErrorHistoryAndCanBeRequeued() throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        AtomicInteger calls = new AtomicInteger();
        long id;
        try (Listener listener = listenerFor(db).retryPolicy(FAST).on(ORDERS, (o, ctx) -> {
            calls.incrementAndGet();
            recordHandled(ctx, o.n(), "x"); // rolled back with each failure
            if (broken.get()) {
                throw new IllegalStateException("payment service down (attempt " + ctx.attempt() + ")");
            }
        }).start()) {
            id = Publisher.create().inNewTransaction(db.dataSource(), (tx, c) -> tx.publish(ORDERS, new Order(7)));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1);

            DeadLetter letter = dead.list("orders", 10).get(0);
            assertThat(letter.id()).isEqualTo(id);
            assertThat(letter.attempts()).isEqualTo(3);
            assertThat(letter.reason()).isEqualTo("failed 3 of 3 attempts");
            assertThat(letter.payload()).isEqualTo("{\"n\": 7}");
            assertThat(letter.errors()).extracting(DeadLetter.Failure::attempt).containsExactly(1, 2, 3);
            assertThat(letter.errors()).extracting(DeadLetter.Failure::error)
                    .allSatisfy(e -> assertThat(e).startsWith("java.lang.IllegalStateException: payment service down"));
            assertThat(calls).hasValue(3);
            assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isZero();
            assertThat(count(db, "SELECT count(*) FROM handled")).isZero();
            assertThat(listener.stats().deadLettered()).isEqualTo(1);
            assertThat(listener.stats().tasksFailed()).isEqualTo(3);

            broken.set(false); // the cause is fixed: re-queue
            assertThat(dead.requeue(id)).isEqualTo(1);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        // Same id, attempts from zero.
        assertThat(db.strings("SELECT task_id || ':' || attempt FROM handled")).containsExactly(id + ":1");
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
    }

    @Test
    void theHandlersAnnotationSetsItsChannelsAttempts() throws Exception {
        FailingBean bean = new FailingBean();
        try (Listener listener = listenerFor(db).retryPolicy(FAST.withMaxAttempts(10)).handlers(bean).start()) {
            Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1);
        }
        assertThat(bean.calls).hasValue(2);
        assertThat(dead.list(null, 1).get(0).reason()).isEqualTo("failed 2 of 2 attempts");
    }

    /** A handler bean whose channel allows two attempts. */
    public static final class FailingBean {
        final AtomicInteger calls = new AtomicInteger();

        @Listen(value = "orders", maxAttempts = 2)
        public void onOrder(Order order) {
            calls.incrementAndGet();
            throw new IllegalStateException("always");
        }
    }

    @Test
    void aTaskWhoseLastAttemptDiedWithItsProcessGoesToTheDeadLettersWithoutRunningAgain() throws Exception {
        // Two attempts failed, and a third was claimed by a listener that died in its handler: its claim
        // transaction (which deleted the row) rolled back with no word from the listener.
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, attempts) VALUES ('orders', '{\"n\": 1}', 2)");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, attempts) VALUES ('orders', '{\"n\": 2}', 1)");
        diedMidHandler(db, "SELECT id FROM pgpubsub.notification");
        AtomicInteger calls = new AtomicInteger();
        try (Listener listener = listenerFor(db).retryPolicy(FAST).on(ORDERS, (o, ctx) -> {
            calls.incrementAndGet();
            recordHandled(ctx, o.n(), "x");
        }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1
                    && count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1);
            assertThat(listener.stats().deadLettered()).isEqualTo(1);
        }
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled")).containsExactly("2:3");
        DeadLetter letter = dead.list(null, 10).get(0);
        assertThat(letter.payload()).isEqualTo("{\"n\": 1}");
        assertThat(letter.reason()).isEqualTo("attempt 3 of 3 never finished (its process died or lost its connection)");
        assertThat(letter.errors()).singleElement().extracting(DeadLetter.Failure::error).asString()
                .contains("never finished");
        assertThat(calls).hasValue(1);
    }

    /** What a claim whose process died leaves behind: its deletion of the rows, rolled back by the server. */
    static void diedMidHandler(TestDatabase db, String rows) throws SQLException {
        try (java.sql.Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (java.sql.Statement s = c.createStatement()) {
                s.execute("DELETE FROM pgpubsub.notification WHERE id IN (" + rows + ")");
            }
            c.rollback();
        }
    }

    @Test
    void poisonRowsGoToTheDeadLettersWithoutAHandlerCallAndWithoutBlockingTheirChannel() throws Exception {
        List<String> poison = List.of("{\"n\": \"not a number\"}", "[1, 2, 3]", "null", "\"just text\"", "42");
        for (String payload : poison) {
            db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('orders', '" + payload + "')");
        }
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('orders', "
                + "jsonb_build_object('n', 1, 'pad', repeat('x', 5000)))"); // larger than this listener loads
        Fixtures.publishOrders(db, 100, 110);
        // A channel no listener serves is not poison: its rows wait.
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('nobody_serves_this', '{\"n\": 1}')");
        AtomicInteger calls = new AtomicInteger();
        try (Listener listener = listenerFor(db).maxPayloadBytes(4_096).batchSize(4).on(ORDERS, (o, ctx) -> {
            calls.incrementAndGet();
            recordHandled(ctx, o.n(), "x");
        }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 10
                    && count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == poison.size() + 1);
            assertThat(listener.stats().deadLettered()).isEqualTo(poison.size() + 1);
            assertThat(listener.stats().tasksFailed()).isZero();
        }
        assertThat(calls).hasValue(10);
        assertThat(db.strings("SELECT payload::text FROM pgpubsub.dead_letter WHERE reason LIKE '%does not map to%' "
                + "OR reason LIKE '%JSON null%' ORDER BY id")).containsExactlyElementsOf(
                        List.of("{\"n\": \"not a number\"}", "[1, 2, 3]", "null", "\"just text\"", "42"));
        assertThat(db.strings("SELECT reason FROM pgpubsub.dead_letter WHERE reason LIKE 'payload of %'")).singleElement()
                .asString().contains("larger than the listener loads (4096 bytes)");
        assertThat(db.strings("SELECT channel FROM pgpubsub.notification")).containsExactly("nobody_serves_this");
    }

    /**
     * Whoever can publish chooses the payload, and mapping errors and handler exceptions quote it:
     * stored and logged as they were, a line break or a terminal escape in it forged log lines and
     * drove the terminal of whoever listed the dead letters.
     */
    @Test
    void controlCharactersOfAPayloadReachNeitherTheErrorsNorTheLogsUnescaped() throws Exception {
        String forged = "\u001b[2J\nINFO everything is fine";
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('orders', "
                + "jsonb_build_object('n', " + "E'" + forged.replace("\u001b", "\\x1b").replace("\n", "\\n") + "'))");
        Fixtures.publishOrders(db, 7, 8);
        RetryPolicy once = new RetryPolicy(1, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
        try (Listener listener = listenerFor(db).retryPolicy(once).on(ORDERS, (o, ctx) -> {
            throw new IllegalStateException("rejected: " + forged);
        }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 2);
        }
        String mapping = db.strings("SELECT reason FROM pgpubsub.dead_letter WHERE reason LIKE '%does not map to%'").get(0);
        String thrown = db.strings("SELECT errors->-1->>'error' FROM pgpubsub.dead_letter WHERE reason LIKE 'failed%'").get(0);
        for (String text : List.of(mapping, thrown)) {
            assertThat(text.chars().filter(Character::isISOControl).count()).as(text).isZero();
        }
        // (The mapper itself drops the escape character from what it quotes, but not the line break.)
        assertThat(mapping).contains("[2J\\nINFO everything is fine\"");
        assertThat(thrown).contains("rejected: \\u001b[2J\\nINFO everything is fine");
    }
}
