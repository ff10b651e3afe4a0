package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.NotificationProbe;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Publishing inside the caller's transaction, with each supported driver. */
@PostgresTest
class PublisherTest {

    record OrderPlaced(long orderId, String customer) {
    }

    static final Channel<OrderPlaced> ORDERS = Channel.of("orders", OrderPlaced.class);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final TestDatabase db;
    private final Publisher publisher = Publisher.create();

    PublisherTest(TestDatabase db) {
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
    @EnumSource(Drivers.class)
    void aCommittedPublishLeavesTheRowWithItsJson(Drivers driver) throws SQLException {
        long id;
        try (Connection c = driver.begin(db)) {
            id = publisher.in(c).publish(ORDERS, new OrderPlaced(7, "ada"));
            c.commit();
        }
        assertThat(db.strings("SELECT id || ' ' || channel || ' ' || payload::text || ' ' || attempts FROM pgpubsub.notification"))
                .containsExactly(id + " orders {\"orderId\": 7, \"customer\": \"ada\"} 0");
    }

    @org.junit.jupiter.api.Test
    void anObserverThatThrowsDoesNotFailThePublish() throws SQLException {
        Publisher observed = Publisher.builder().observer((channel, tasks) -> {
            throw new IllegalArgumentException("a meter registered twice with other tags");
        }).build();
        long[] ids;
        try (Connection c = Drivers.values()[0].begin(db)) {
            long one = observed.in(c).publish(ORDERS, new OrderPlaced(1, "ada"));
            long[] more = observed.in(c).publishAll(ORDERS, List.of(new OrderPlaced(2, "bob")));
            ids = new long[] {one, more[0]};
            c.commit();
        }
        assertThat(db.strings("SELECT id::text FROM pgpubsub.notification ORDER BY id"))
                .containsExactly(Long.toString(ids[0]), Long.toString(ids[1]));
    }

    @ParameterizedTest
    @EnumSource(Drivers.class)
    void aRolledBackPublishLeavesNothingAndWakesNoOne(Drivers driver) throws SQLException {
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders");
                Connection c = driver.begin(db)) {
            publisher.in(c).publish(ORDERS, new OrderPlaced(1, "ada"));
            publisher.in(c).publishAll(ORDERS, List.of(new OrderPlaced(2, "bob")));
            c.rollback();
            assertThat(probe.receivedBeforeSentinel(WAIT)).isEmpty();
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @ParameterizedTest
    @EnumSource(Drivers.class)
    void aBatchOfTenThousandInOneTransactionWritesEveryRowAndWakesOnce(Drivers driver) throws SQLException {
        List<OrderPlaced> orders = IntStream.range(0, 10_000).mapToObj(i -> new OrderPlaced(i, "c" + i)).toList();
        long[] ids;
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders");
                Connection c = driver.begin(db)) {
            ids = publisher.in(c).publishAll(ORDERS, orders);
            c.commit();
            assertThat(probe.receivedBeforeSentinel(WAIT)).containsExactly("pgpubsub.orders");
        }
        assertThat(ids).hasSize(10_000);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(10_000);
        // Ids follow the order of the payloads.
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification WHERE (payload->>'orderId')::bigint <> id - "
                + ids[0])).isZero();
        assertThat(ids[9_999] - ids[0]).isEqualTo(9_999);
    }

    @ParameterizedTest
    @EnumSource(Drivers.class)
    void aDelayedPublishKeepsItsRunAt(Drivers driver) throws SQLException {
        Instant later = Instant.parse("2031-05-06T07:08:09.123456Z");
        try (Connection c = driver.begin(db)) {
            publisher.in(c).publish(ORDERS, new OrderPlaced(1, "ada"), later);
            publisher.in(c).publishAll(ORDERS, List.of(new OrderPlaced(2, "bob"), new OrderPlaced(3, "cy")), later);
            c.commit();
        }
        assertThat(db.strings("SELECT to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM pgpubsub.notification"))
                .containsOnly("2031-05-06T07:08:09.123456").hasSize(3);
    }

    @ParameterizedTest
    @EnumSource(Drivers.class)
    void aConnectionInAutocommitIsRefusedBeforeAnythingIsWritten(Drivers driver) throws SQLException {
        try (Connection c = driver.connect(db)) {
            assertThatThrownBy(() -> publisher.in(c).publish(ORDERS, new OrderPlaced(1, "ada")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("autocommit")
                    .hasMessageContaining("setAutoCommit(false)");
            assertThatThrownBy(() -> publisher.in(c).publishAll(ORDERS, List.of(new OrderPlaced(1, "ada"))))
                    .isInstanceOf(IllegalStateException.class);
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void publishingFromADataSourceCommitsInATransactionOfItsOwn() throws SQLException {
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders")) {
            long id = publisher.publish(db.dataSource(), ORDERS, new OrderPlaced(5, "eve"));
            assertThat(probe.receivedBeforeSentinel(WAIT)).containsExactly("pgpubsub.orders");
            assertThat(db.strings("SELECT id FROM pgpubsub.notification")).containsExactly(Long.toString(id));
        }
    }

    @Test
    void workInANewTransactionThatThrowsIsRolledBack() throws SQLException {
        assertThatThrownBy(() -> publisher.inNewTransaction(db.dataSource(), (tx, c) -> {
            tx.publish(ORDERS, new OrderPlaced(1, "ada"));
            c.createStatement().execute("SELECT 1/0");
            return null;
        })).isInstanceOf(PgPubSubException.class).hasMessageContaining("division by zero");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void publishingToAnotherSchemaWakesItsOwnChannel() throws SQLException {
        PgPubSub.migrate(db.dataSource(), "jobs");
        Publisher jobs = Publisher.builder().schema("jobs").build();
        try (NotificationProbe probe = NotificationProbe.listen(db, "pgpubsub.orders", "jobs.orders")) {
            jobs.publish(db.dataSource(), ORDERS, new OrderPlaced(1, "ada"));
            jobs.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(ORDERS, List.of(new OrderPlaced(2, "b"))));
            assertThat(probe.receivedBeforeSentinel(WAIT)).containsExactly("jobs.orders", "jobs.orders");
        }
        assertThat(db.number("SELECT count(*) FROM jobs.notification")).isEqualTo(2);
    }

    @Test
    void anEmptyBatchPublishesNothing() throws SQLException {
        try (Connection c = Drivers.STANDARD.begin(db)) {
            assertThat(publisher.in(c).publishAll(ORDERS, List.of())).isEmpty();
            c.commit();
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void aBatchLargerThanOneRoundTripKeepsItsOrder() throws SQLException {
        // 3,000 payloads of ~2 KB make ~6 MB: more than one round trip's worth.
        String big = "x".repeat(2_000);
        List<OrderPlaced> orders = IntStream.range(0, 3_000).mapToObj(i -> new OrderPlaced(i, big)).toList();
        long[] ids;
        try (Connection c = Drivers.STANDARD.begin(db)) {
            ids = publisher.in(c).publishAll(ORDERS, orders);
            c.commit();
        }
        assertThat(ids).isSorted().doesNotHaveDuplicates().hasSize(3_000);
        assertThat(db.strings("SELECT count(*) FILTER (WHERE (payload->>'orderId')::bigint = rank - 1) FROM "
                + "(SELECT payload, rank() OVER (ORDER BY id) FROM pgpubsub.notification) r")).containsExactly("3000");
    }
}
