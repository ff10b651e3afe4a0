package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Payloads survive the trip through jsonb, and rows written by a newer publisher still read. */
@PostgresTest
class PayloadRoundTripTest {

    record Money(BigDecimal amount, String currency) {
    }

    record Line(String sku, int quantity, Money price) {
    }

    record Order(UUID id, Instant placedAt, List<Line> lines, Optional<String> note, Optional<String> coupon,
            Map<String, Long> counters, Money total) {
    }

    record Slim(UUID id) {
    }

    private static final Channel<Order> ORDERS = Channel.of("orders", Order.class);
    private static final PayloadCodec CODEC = PayloadCodec.standard();

    private final TestDatabase db;

    PayloadRoundTripTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @Test
    void nestedRecordsListsInstantsDecimalsOptionalsAndUuidsRoundTrip() throws SQLException {
        Order order = new Order(UUID.randomUUID(), Instant.parse("2026-11-23T10:15:30.123456Z"),
                List.of(new Line("A-1", 2, new Money(new BigDecimal("19.990"), "EUR")),
                        new Line("B-2", 1, new Money(new BigDecimal("0.000000000000000001"), "EUR"))),
                Optional.of("leave at door"), Optional.empty(), Map.of("retries", 3L),
                new Money(new BigDecimal("12345678901234567890.12"), "EUR"));
        long id = Publisher.create().publish(db.dataSource(), ORDERS, order);

        String json = db.strings("SELECT payload::text FROM pgpubsub.notification WHERE id = " + id).get(0);
        assertThat(CODEC.read("orders", json, Order.class)).isEqualTo(order);
    }

    @Test
    void aRowWithAnUnknownPropertyStillReads() throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = db.connect()) {
            c.createStatement().execute("SELECT pgpubsub.publish('slim', jsonb_build_object('id', '" + id
                    + "', 'addedByANewerVersion', jsonb_build_object('x', 1)))");
        }
        String json = db.strings("SELECT payload::text FROM pgpubsub.notification WHERE channel = 'slim'").get(0);
        assertThat(CODEC.read("slim", json, Slim.class)).isEqualTo(new Slim(id));
    }

    @Test
    void jsonThatDoesNotMapNamesTheChannelAndTheType() {
        assertThatThrownBy(() -> CODEC.read("slim", "{\"id\": \"not-a-uuid\"}", Slim.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'slim'")
                .hasMessageContaining(Slim.class.getName());
    }

    @Test
    void aClassNameInTheDataIsNeverUsed() {
        String hostile = "{\"id\": \"" + UUID.randomUUID() + "\", \"@class\": \"java.lang.ProcessBuilder\"}";
        assertThat(CODEC.read("slim", hostile, Slim.class)).isInstanceOf(Slim.class);
    }
}
