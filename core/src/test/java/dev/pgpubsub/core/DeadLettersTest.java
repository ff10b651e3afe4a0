package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.NotificationProbe;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Listing, re-queuing and purging dead letters (a listener puts them there; here they are inserted as it would). */
@PostgresTest
class DeadLettersTest {

    private final TestDatabase db;
    private final DeadLetters dead;

    DeadLettersTest(TestDatabase db) {
        this.db = db;
        this.dead = DeadLetters.of(db.dataSource());
    }

    @BeforeEach
    void reset() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.dead_letter");
        db.execute("DELETE FROM pgpubsub.notification");
        bury(101, "orders", "{\"n\": 1}", 3);
        bury(102, "orders", "{\"n\": 2}", 3);
        bury(103, "invoices", "{\"n\": 3}", 1);
    }

    private void bury(long id, String channel, String payload, int attempts) throws SQLException {
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, errors, reason, dead_at) "
                + "VALUES (" + id + ", '" + channel + "', '" + payload + "', now() - interval '1 hour', " + attempts
                + ", jsonb_build_array(jsonb_build_object('attempt', 1, 'at', now(), 'error', 'boom " + id + "')), "
                + "'failed " + attempts + " of " + attempts + " attempts', now() - make_interval(secs => " + (200 - id) + "))");
    }

    @Test
    void listsOldestFirstWithTheirErrorHistory() {
        List<DeadLetter> all = dead.list(null, 10);
        assertThat(all).extracting(DeadLetter::id).containsExactly(101L, 102L, 103L);
        DeadLetter first = all.get(0);
        assertThat(first.channel()).isEqualTo("orders");
        assertThat(first.payload()).isEqualTo("{\"n\": 1}");
        assertThat(first.attempts()).isEqualTo(3);
        assertThat(first.reason()).isEqualTo("failed 3 of 3 attempts");
        assertThat(first.errors()).singleElement().satisfies(f -> {
            assertThat(f.attempt()).isEqualTo(1);
            assertThat(f.error()).isEqualTo("boom 101");
            assertThat(f.at()).isNotNull();
        });
        assertThat(dead.list("invoices", 10)).extracting(DeadLetter::id).containsExactly(103L);
        assertThat(dead.list(null, 1)).hasSize(1);
        assertThat(dead.countByChannel()).containsExactly(java.util.Map.entry("invoices", 1L), java.util.Map.entry("orders", 2L));
    }

    @Test
    void requeueingPutsTasksBackWithTheirIdsAttemptsFromZeroAndWakesTheirChannelOnce() throws SQLException {
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders", "pgpubsub.invoices")) {
            assertThat(dead.requeueChannel("orders")).isEqualTo(2);
            assertThat(probe.receivedBeforeSentinel(Duration.ofSeconds(30))).containsExactly("pgpubsub.orders");
        }
        assertThat(db.strings("SELECT id || ':' || attempts || ':' || (run_at <= now()) || ':' || jsonb_array_length(errors) "
                + "FROM pgpubsub.notification ORDER BY id")).containsExactly("101:0:true:1", "102:0:true:1");
        assertThat(dead.requeue(103, 999)).isEqualTo(1);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(3);
        // New tasks keep getting fresh ids: re-queued ones never collide with them.
        Publisher.create().publish(db.dataSource(), Channel.of("orders", Order.class), new Order(4));
        assertThat(db.number("SELECT count(DISTINCT id) FROM pgpubsub.notification")).isEqualTo(4);
    }

    @Test
    void purgingDeletesForGood() throws SQLException {
        assertThat(dead.purge(101)).isEqualTo(1);
        assertThat(dead.purgeChannel("invoices")).isEqualTo(1);
        assertThat(dead.list(null, 10)).extracting(DeadLetter::id).containsExactly(102L);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void badArgumentsAreRefusedWithTheFix() {
        assertThatThrownBy(() -> dead.list(null, 0)).hasMessageContaining("limit is 0");
        assertThatThrownBy(() -> dead.requeueChannel("no such channel!")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no such channel!");
        assertThatThrownBy(() -> DeadLetters.of(db.dataSource(), "missing_schema").list(null, 1))
                .isInstanceOf(PgPubSubException.class)
                .hasMessageStartingWith("Could not list dead letters in schema 'missing_schema': ")
                .hasMessageEndingWith(" (SQLSTATE 42P01). Check that pgpubsub is installed there at version 3 or later "
                        + "(PgPubSub.migrate) and that the user may write its tables.");
        assertThatThrownBy(() -> DeadLetters.of(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dataSource is null: pass the DataSource of the database pgpubsub is installed in");
        assertThatThrownBy(() -> DeadLetters.of(db.dataSource(), "Bad-Schema")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Schema name 'Bad-Schema' is not valid");
    }

    /**
     * With a statement timeout, a re-queue that waits on a lock stops after it (SQLSTATE 57014) and
     * changes nothing; once the lock is gone, the same view re-queues.
     */
    @Test
    void withAStatementTimeoutACallThatWaitsOnALockStops() throws Exception {
        DeadLetters bounded = dead.withStatementTimeout(Duration.ofMillis(300));
        try (Connection locker = db.dataSource().getConnection()) {
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("LOCK TABLE pgpubsub.dead_letter IN ACCESS EXCLUSIVE MODE");
            }
            assertThatThrownBy(() -> bounded.requeue(101)).isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("SQLSTATE 57014");
            locker.rollback();
        }
        assertThat(bounded.requeue(101)).isEqualTo(1);
        assertThatThrownBy(() -> dead.withStatementTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pass at least 1 ms");
    }

    record Order(long n) {
    }
}
