package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Unique keys and cancellation through the SQL functions, as psql or another language calls them;
 * a running task is played by a transaction that claims the row as a listener does (locks and
 * deletes it, and has not committed).
 */
@PostgresTest
class UniqueKeyFunctionTest {

    private static final Duration BOUND = Duration.ofSeconds(20);

    private final TestDatabase db;

    UniqueKeyFunctionTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.dead_letter");
    }

    @Test
    void aPendingKeyIsKeptByDefaultAndItsIdReturned() throws SQLException {
        long first = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 1}', key => 'order-42:invoice')");
        long again = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 2}', key => 'order-42:invoice')");
        long otherChannel = db.number("SELECT pgpubsub.publish('refunds', '{\"n\": 3}', key => 'order-42:invoice')");
        assertThat(again).isEqualTo(first);
        assertThat(otherChannel).isNotEqualTo(first);
        assertThat(db.strings("SELECT channel || ':' || (payload->>'n') FROM pgpubsub.notification ORDER BY id"))
                .containsExactly("orders:1", "refunds:3");
    }

    @Test
    void replaceChangesThePendingTasksPayloadRunAtAndTraceContext() throws SQLException {
        long first = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 1}', now() + interval '1 hour', key => 'k')");
        db.execute("UPDATE pgpubsub.notification SET attempts = 2, last_error = 'boom'");
        long replaced = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 2}', key => 'k', on_conflict => 'replace',"
                + " trace_context => '{\"traceparent\": \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}')");
        assertThat(replaced).isEqualTo(first);
        assertThat(db.strings("SELECT (payload->>'n') || ':' || (run_at <= now()) || ':' || attempts || ':'"
                + " || coalesce(last_error, '-') || ':' || (trace_context->>'traceparent' IS NOT NULL) FROM pgpubsub.notification"))
                .containsExactly("2:true:0:-:true");
    }

    @Test
    void aKeyIsFreeOnceItsTaskIsDone() throws SQLException {
        long first = db.number("SELECT pgpubsub.publish('orders', '{}', key => 'k')");
        db.execute("DELETE FROM pgpubsub.notification WHERE id = " + first);
        long second = db.number("SELECT pgpubsub.publish('orders', '{}', key => 'k')");
        assertThat(second).isNotEqualTo(first);
    }

    @Test
    void publishAllTakesKeysParallelToPayloadsAndReturnsIdsInPayloadOrder() throws SQLException {
        long pending = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 0}', key => 'b')");
        String ids = db.strings("SELECT pgpubsub.publish_all('orders', '[{\"n\": 1}, {\"n\": 2}, {\"n\": 3}, {\"n\": 4}]',"
                + " keys => ARRAY['c', 'b', NULL, 'c'])::text").get(0);
        String[] parts = ids.substring(1, ids.length() - 1).split(",");
        assertThat(parts).hasSize(4);
        assertThat(Long.parseLong(parts[1])).isEqualTo(pending);
        assertThat(parts[3]).as("the batch's second 'c' keeps its first").isEqualTo(parts[0]);
        assertThat(db.strings("SELECT (payload->>'n') || ':' || coalesce(key, '-') FROM pgpubsub.notification ORDER BY id"))
                .containsExactly("0:b", "1:c", "3:-");
    }

    @Test
    void badKeysAndModesAreRefusedNamingTheValue() {
        assertThatThrownBy(() -> db.number("SELECT pgpubsub.publish('orders', '{}', key => '  ')"))
                .hasMessageContaining("the key \"  \" is blank");
        assertThatThrownBy(() -> db.number("SELECT pgpubsub.publish('orders', '{}', key => repeat('x', 257))"))
                .hasMessageContaining("257 bytes, more than 256");
        assertThatThrownBy(() -> db.number("SELECT pgpubsub.publish('orders', '{}', key => 'k', on_conflict => 'upsert')"))
                .hasMessageContaining("on_conflict is \"upsert\", not keep or replace");
        assertThatThrownBy(() -> db.strings("SELECT pgpubsub.publish_all('orders', '[{}]', keys => ARRAY['a', 'b'])::text"))
                .hasMessageContaining("2 keys for 1 payloads");
    }

    @Test
    void aRunningTaskNeitherBlocksNorIsReplacedAndCannotBeCancelled() throws Exception {
        long id = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 1}', key => 'k')");
        try (Connection claim = db.connect()) {
            claimAsAListenerDoes(claim, id);
            CompletableFuture<Long> kept = CompletableFuture.supplyAsync(() -> number(
                    "SELECT pgpubsub.publish('orders', '{\"n\": 2}', key => 'k')"));
            assertThat(kept.get(BOUND.toSeconds(), TimeUnit.SECONDS)).as("keep returns the running task").isEqualTo(id);
            CompletableFuture<Long> replaced = CompletableFuture.supplyAsync(() -> number(
                    "SELECT pgpubsub.publish('orders', '{\"n\": 3}', key => 'k', on_conflict => 'replace')"));
            assertThatThrownBy(() -> replaced.get(BOUND.toSeconds(), TimeUnit.SECONDS))
                    .hasMessageContaining("55P03").hasMessageContaining("task " + id + " with key \"k\"");
            CompletableFuture<String> byId = CompletableFuture.supplyAsync(() -> string("SELECT pgpubsub.cancel(" + id + ")"));
            assertThat(byId.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo("running");
            CompletableFuture<String> byKey = CompletableFuture.supplyAsync(() -> string("SELECT pgpubsub.cancel('orders', 'k')"));
            assertThat(byKey.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo("running");
            claim.commit();
        }
        long next = db.number("SELECT pgpubsub.publish('orders', '{\"n\": 4}', key => 'k')");
        assertThat(next).as("the key is free once the claim commits").isNotEqualTo(id);
    }

    @Test
    void cancelRemovesAPendingTaskByIdOrByKeyAndTellsAnUnknownOne() throws SQLException {
        long a = db.number("SELECT pgpubsub.publish('orders', '{}')");
        db.number("SELECT pgpubsub.publish('orders', '{}', key => 'k')");
        assertThat(db.strings("SELECT pgpubsub.cancel(" + a + ")")).containsExactly("cancelled");
        assertThat(db.strings("SELECT pgpubsub.cancel(" + a + ")")).containsExactly("not_found");
        assertThat(db.strings("SELECT pgpubsub.cancel('orders', 'k')")).containsExactly("cancelled");
        assertThat(db.strings("SELECT pgpubsub.cancel('orders', 'k')")).containsExactly("not_found");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    /** Locks and deletes the row in an open transaction, as a listener's claim does while its handler runs. */
    static void claimAsAListenerDoes(Connection c, long id) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("DELETE FROM pgpubsub.notification WHERE id = (SELECT id FROM pgpubsub.notification WHERE id = " + id
                    + " FOR UPDATE SKIP LOCKED)");
        }
    }

    private long number(String sql) {
        try {
            return db.number(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getSQLState() + " " + e.getMessage(), e);
        }
    }

    private String string(String sql) {
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getSQLState() + " " + e.getMessage(), e);
        }
    }
}
