package dev.pgpubsub.examples;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.TriggerChannel;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.RowChange;
import dev.pgpubsub.listener.TaskContext;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A trigger channel in the demo shop: every change of an order's status, whoever makes it (this
 * program, psql, another service), becomes a task whose handler writes an audit row, exactly once.
 * Run it with {@code -Dexec.mainClass=dev.pgpubsub.examples.StatusChanges}.
 */
public final class StatusChanges {

    /** A row of {@code shop_order}; columns map to components by name. */
    public record ShopOrder(long id, String status) {
    }

    /** The channel fed by the table's triggers: status changes only. */
    static final TriggerChannel STATUS_CHANGES = TriggerChannel.forTable("shop_order")
            .channel("order_status_changes")
            .events(TriggerChannel.Event.UPDATE)
            .onlyWhenChanged("status")
            .build();

    /** Writes one audit row per status change, in the claiming transaction. */
    public static final class Auditor {
        private final CountDownLatch remaining;

        Auditor(CountDownLatch remaining) {
            this.remaining = remaining;
        }

        /** Handles one change. */
        @Listen("order_status_changes")
        public void onStatusChange(RowChange<ShopOrder> change, TaskContext context) throws SQLException {
            try (PreparedStatement ps = context.connection().prepareStatement(
                    "INSERT INTO order_audit (order_id, old_status, new_status, changed_by) VALUES (?, ?, ?, ?)")) {
                ps.setLong(1, change.after().id());
                ps.setString(2, change.before().status());
                ps.setString(3, change.after().status());
                ps.setString(4, change.context());
                ps.executeUpdate();
            }
            System.out.printf("order %d: %s -> %s (by %s)%n", change.after().id(), change.before().status(),
                    change.after().status(), change.context());
            remaining.countDown();
        }
    }

    private StatusChanges() {
    }

    /** Runs the example on an embedded Postgres. */
    public static void main(String[] args) throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            run(pg.getJdbcUrl("postgres", "postgres"), pg.getPostgresDatabase());
        }
    }

    static void run(String jdbcUrl, DataSource ds) throws SQLException, InterruptedException {
        PgPubSub.migrate(ds);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS shop_order, order_audit");
            s.execute("CREATE TABLE shop_order (id bigint PRIMARY KEY, status text NOT NULL)");
            s.execute("CREATE TABLE order_audit (order_id bigint, old_status text, new_status text, changed_by text)");
            s.execute("INSERT INTO shop_order VALUES (1, 'new'), (2, 'new'), (3, 'new')");
        }
        System.out.println(STATUS_CHANGES.installSql(PgPubSub.DEFAULT_SCHEMA));
        PgPubSub.installTriggers(ds, STATUS_CHANGES);
        CountDownLatch remaining = new CountDownLatch(2);
        try (Listener listener = Listener.builder().jdbcUrl(jdbcUrl).handlers(new Auditor(remaining)).start();
                Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL pgpubsub.context = 'support-desk'");
            s.execute("UPDATE shop_order SET status = 'paid' WHERE id IN (1, 2)");
            s.execute("UPDATE shop_order SET status = 'paid' WHERE id = 1"); // the same value: no event
            c.commit();
            if (!remaining.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("The status changes were not handled within 60 s");
            }
        }
    }
}
