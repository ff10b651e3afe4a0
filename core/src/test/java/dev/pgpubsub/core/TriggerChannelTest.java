package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.core.TriggerChannel.Event;
import dev.pgpubsub.testing.NotificationProbe;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Trigger channels: table changes become tasks, in the writer's transaction, with one wake-up. */
@PostgresTest
class TriggerChannelTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final TestDatabase db;

    TriggerChannelTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification");
        db.execute("DROP TABLE IF EXISTS shop_order");
        db.execute("CREATE TABLE shop_order (region text, no bigint, status text, amount numeric, tags text[], data jsonb, "
                + "placed timestamptz, blob bytea, PRIMARY KEY (region, no))");
    }

    private static TriggerChannel.Builder orders() {
        return TriggerChannel.forTable("shop_order").channel("order_changes");
    }

    @Test
    void insertUpdateAndDeleteEachYieldOneEventWithTheRowsBeforeAndAfter() throws SQLException {
        PgPubSub.installTriggers(db.dataSource(), orders().build());
        db.execute("INSERT INTO shop_order VALUES ('eu', 1, 'new', 9.99, '{a,b}', '{\"k\": 1}', '2026-11-23T10:00:00Z', '\\xdead')");
        db.execute("UPDATE shop_order SET status = 'paid' WHERE no = 1");
        db.execute("DELETE FROM shop_order WHERE no = 1");
        assertThat(db.strings("SELECT payload->>'op' || ' ' || coalesce(payload->'before'->>'status', '-') || ' ' "
                + "|| coalesce(payload->'after'->>'status', '-') FROM pgpubsub.notification WHERE channel = 'order_changes' "
                + "ORDER BY id")).containsExactly("INSERT - new", "UPDATE new paid", "DELETE paid -");
        assertThat(db.strings("SELECT DISTINCT payload->>'table' FROM pgpubsub.notification")).containsExactly("public.shop_order");
        assertThat(db.number("SELECT count(*) FROM shop_order")).as("the delete was not cancelled").isZero();
    }

    @Test
    void aRolledBackWriteYieldsNoEvent() throws SQLException {
        PgPubSub.installTriggers(db.dataSource(), orders().build());
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            c.createStatement().execute("INSERT INTO shop_order (region, no, status) VALUES ('eu', 1, 'new')");
            c.rollback();
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void aBulkUpdateOfFiftyThousandRowsYieldsFiftyThousandEventsAndOneWakeUp() throws SQLException {
        db.execute("INSERT INTO shop_order (region, no, status) SELECT 'eu', g, 'new' FROM generate_series(1, 50000) g");
        PgPubSub.installTriggers(db.dataSource(), orders().events(Event.UPDATE).build());
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.order_changes")) {
            db.execute("UPDATE shop_order SET status = 'paid'");
            assertThat(probe.receivedBeforeSentinel(WAIT)).containsExactly("pgpubsub.order_changes");
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification WHERE payload->>'op' = 'UPDATE'")).isEqualTo(50_000);
    }

    @Test
    void aFilteredChannelIgnoresUpdatesThatAssignTheSameValue() throws SQLException {
        db.execute("INSERT INTO shop_order (region, no, status, amount) VALUES ('eu', 1, 'new', 1)");
        PgPubSub.installTriggers(db.dataSource(), orders().events(Event.UPDATE).onlyWhenChanged("status").build());
        db.execute("UPDATE shop_order SET status = 'new'");          // assigned, not changed
        db.execute("UPDATE shop_order SET amount = 2");               // another column
        db.execute("UPDATE shop_order SET status = 'paid'");          // changed
        assertThat(db.strings("SELECT payload->'after'->>'status' FROM pgpubsub.notification")).containsExactly("paid");
    }

    @Test
    void aWhenConditionFiltersRows() throws SQLException {
        PgPubSub.installTriggers(db.dataSource(), orders().events(Event.INSERT).when("NEW.amount > 100").build());
        db.execute("INSERT INTO shop_order (region, no, amount) VALUES ('eu', 1, 5), ('eu', 2, 500)");
        assertThat(db.strings("SELECT payload->'after'->>'no' FROM pgpubsub.notification")).containsExactly("2");
    }

    @Test
    void theWritersContextArrivesWithTheEvent() throws SQLException {
        PgPubSub.installTriggers(db.dataSource(), orders().build());
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            c.createStatement().execute("SET LOCAL pgpubsub.context = '{\"user\": \"ada\"}'");
            c.createStatement().execute("INSERT INTO shop_order (region, no) VALUES ('eu', 1)");
            c.commit();
            c.createStatement().execute("INSERT INTO shop_order (region, no) VALUES ('eu', 2)");
            c.commit();
        }
        assertThat(db.strings("SELECT coalesce(payload->>'context', '-') FROM pgpubsub.notification ORDER BY id"))
                .containsExactly("{\"user\": \"ada\"}", "-");
    }

    @Test
    void installingAgainReplacesTheTriggersAndDroppingRemovesThem() throws SQLException {
        TriggerChannel all = orders().build();
        PgPubSub.installTriggers(db.dataSource(), all);
        PgPubSub.installTriggers(db.dataSource(), orders().events(Event.DELETE).build());
        db.execute("INSERT INTO shop_order (region, no) VALUES ('eu', 1)");
        db.execute("DELETE FROM shop_order");
        assertThat(db.strings("SELECT payload->>'op' FROM pgpubsub.notification")).containsExactly("DELETE");
        PgPubSub.dropTriggers(db.dataSource(), PgPubSub.DEFAULT_SCHEMA, all);
        db.execute("INSERT INTO shop_order (region, no) VALUES ('eu', 2)");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(1);
        assertThat(db.number("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'shop_order'::regclass")).isZero();
    }

    @Test
    void hostileTableAndColumnNamesAreQuotedOrRejected() throws SQLException {
        db.execute("CREATE TABLE \"we\"\"ird; DROP TABLE shop_order; --\" (\"sta\"\"tus\" text)");
        PgPubSub.installTriggers(db.dataSource(), TriggerChannel.forTable("public", "we\"ird; DROP TABLE shop_order; --")
                .channel("weird").onlyWhenChanged("sta\"tus").build());
        db.execute("INSERT INTO \"we\"\"ird; DROP TABLE shop_order; --\" VALUES ('x')");
        db.execute("UPDATE \"we\"\"ird; DROP TABLE shop_order; --\" SET \"sta\"\"tus\" = 'y'");
        assertThat(db.strings("SELECT payload->>'op' FROM pgpubsub.notification ORDER BY id")).containsExactly("INSERT", "UPDATE");
        assertThat(db.number("SELECT count(*) FROM pg_class WHERE relname = 'shop_order'")).isEqualTo(1);
        assertThatThrownBy(() -> TriggerChannel.forTable("bad\0name")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> orders().channel("order changes")).hasMessageContaining("'order changes'");
        assertThatThrownBy(() -> orders().channel("c".repeat(50))).hasMessageContaining("at most 49");
        assertThatThrownBy(() -> TriggerChannel.forTable("shop_order").build()).hasMessageContaining("No channel");
    }

    @Test
    void aWriterWithoutRightsOnTheNotificationTableCanStillWriteTheTable() throws SQLException {
        PgPubSub.installTriggers(db.dataSource(), orders().build());
        db.execute("DROP ROLE IF EXISTS shop_writer");
        db.execute("CREATE ROLE shop_writer");
        db.execute("GRANT INSERT, UPDATE, DELETE, SELECT ON shop_order TO shop_writer");
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("SET ROLE shop_writer");
            assertThatThrownBy(() -> s.executeQuery("SELECT count(*) FROM pgpubsub.notification"))
                    .hasMessageContaining("permission denied");
            s.execute("INSERT INTO shop_order (region, no, status) VALUES ('eu', 7, 'new')");
            s.execute("RESET ROLE");
        } finally {
            db.execute("REVOKE ALL ON shop_order FROM shop_writer");
        }
        assertThat(db.strings("SELECT payload->'after'->>'no' FROM pgpubsub.notification")).containsExactly("7");
    }
}
