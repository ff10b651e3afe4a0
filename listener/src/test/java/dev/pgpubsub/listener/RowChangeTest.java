package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.TriggerChannel;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Trigger channels end to end: rows mapped to records, each change handled exactly once. */
@PostgresTest
class RowChangeTest {

    /** A row of shop_order: snake_case columns map to camelCase components. */
    public record OrderRow(String region, long orderNo, String status, BigDecimal amount, List<String> tags,
            Map<String, Object> data, Instant placedAt, byte[] blob) {
    }

    public static class OrderChanges {
        final List<RowChange<OrderRow>> seen = new CopyOnWriteArrayList<>();

        @Listen("order_changes")
        public void onChange(RowChange<OrderRow> change, TaskContext context) throws SQLException {
            seen.add(change);
            OrderRow row = change.after() != null ? change.after() : change.before();
            try (PreparedStatement ps = context.connection().prepareStatement(
                    "INSERT INTO audit (order_no, op, context) VALUES (?, ?, ?)")) {
                ps.setLong(1, row.orderNo());
                ps.setString(2, change.op().name());
                ps.setString(3, change.context());
                ps.executeUpdate();
            }
        }
    }

    private final TestDatabase db;

    RowChangeTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification");
        db.execute("DROP TABLE IF EXISTS shop_order, audit");
        db.execute("CREATE TABLE shop_order (region text, order_no bigint, status text, amount numeric, tags text[], "
                + "data jsonb, placed_at timestamptz, blob bytea, PRIMARY KEY (region, order_no))");
        db.execute("CREATE TABLE audit (order_no bigint, op text, context text)");
        PgPubSub.installTriggers(db.dataSource(), TriggerChannel.forTable("shop_order").channel("order_changes").build());
    }

    @Test
    void rowsMapToRecordsWithEveryColumnType() throws Exception {
        OrderChanges handler = new OrderChanges();
        // One worker: a channel's tasks run in claim order, so the three changes arrive in order.
        try (Listener listener = listenerFor(db).workers(1).handlers(handler).start()) {
            db.execute("BEGIN; SET LOCAL pgpubsub.context = '{\"user\": \"ada\"}'; "
                    + "INSERT INTO shop_order VALUES ('eu', 42, 'new', 12345678901234567890.12, '{a,b}', '{\"k\": [1, 2]}', "
                    + "'2026-11-23T10:15:30.123456Z', '\\xdeadbeef'); COMMIT");
            db.execute("UPDATE shop_order SET status = 'paid'");
            db.execute("DELETE FROM shop_order");
            await().atMost(AWAIT).until(() -> handler.seen.size() == 3);
        }
        RowChange<OrderRow> insert = handler.seen.get(0);
        assertThat(insert.op()).isEqualTo(RowChange.Op.INSERT);
        assertThat(insert.table()).isEqualTo("public.shop_order");
        assertThat(insert.before()).isNull();
        assertThat(insert.context()).isEqualTo("{\"user\": \"ada\"}");
        OrderRow row = insert.after();
        assertThat(row.region()).isEqualTo("eu");
        assertThat(row.orderNo()).isEqualTo(42);
        assertThat(row.amount()).isEqualByComparingTo("12345678901234567890.12");
        assertThat(row.tags()).containsExactly("a", "b");
        assertThat(row.data()).containsEntry("k", List.of(1, 2));
        assertThat(row.placedAt()).isEqualTo(Instant.parse("2026-11-23T10:15:30.123456Z"));
        assertThat(row.blob()).containsExactly(0xde, 0xad, 0xbe, 0xef);
        assertThat(handler.seen.get(1).before().status()).isEqualTo("new");
        assertThat(handler.seen.get(1).after().status()).isEqualTo("paid");
        assertThat(handler.seen.get(2).after()).isNull();
        assertThat(db.strings("SELECT op FROM audit ORDER BY op")).containsExactly("DELETE", "INSERT", "UPDATE");
    }

    @Test
    void eachChangeIsHandledExactlyOnceByCompetingListeners() throws Exception {
        db.execute("INSERT INTO shop_order (region, order_no, status) SELECT 'eu', g, 'new' FROM generate_series(1, 5000) g");
        try (Listener a = listenerFor(db).onRowChanges("order_changes", OrderRow.class, (change, ctx) -> audit(change, ctx)).start();
                Listener b = listenerFor(db).onRowChanges("order_changes", OrderRow.class, (change, ctx) -> audit(change, ctx)).start()) {
            db.execute("UPDATE shop_order SET status = 'paid'");
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM pgpubsub.notification") == 0);
        }
        assertThat(db.number("SELECT count(*) FROM audit")).isEqualTo(10_000);
        assertThat(db.number("SELECT count(DISTINCT (order_no, op)) FROM audit")).isEqualTo(10_000);
    }

    private static void audit(RowChange<OrderRow> change, TaskContext context) throws SQLException {
        OrderRow row = change.after() != null ? change.after() : change.before();
        try (PreparedStatement ps = context.connection().prepareStatement("INSERT INTO audit (order_no, op) VALUES (?, ?)")) {
            ps.setLong(1, row.orderNo());
            ps.setString(2, change.op().name());
            ps.executeUpdate();
        }
    }
}
