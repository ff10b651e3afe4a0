package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** The README's quick start, compiled and run. Keep the two in step. */
@PostgresTest
class QuickStartTest {

    // quick-start:begin
    record OrderPlaced(UUID orderId, BigDecimal amount) {}

    static final Channel<OrderPlaced> ORDERS = Channel.of("orders", OrderPlaced.class);
    static final Publisher PUBLISHER = Publisher.create();

    void placeOrder(DataSource dataSource, UUID orderId, BigDecimal amount) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO orders (id, amount) VALUES (?, ?)")) {
                insert.setObject(1, orderId);
                insert.setBigDecimal(2, amount);
                insert.executeUpdate();
            }
            // The task commits with the order, or not at all.
            PUBLISHER.in(c).publish(ORDERS, new OrderPlaced(orderId, amount));
            // Delayed, and many in one round trip:
            PUBLISHER.in(c).publish(ORDERS, new OrderPlaced(orderId, amount), Instant.now().plus(Duration.ofHours(1)));
            PUBLISHER.in(c).publishAll(ORDERS, List.of(new OrderPlaced(orderId, amount)));
            c.commit();
        }
    }
    // quick-start:end

    @Test
    void theQuickStartPublishesWithTheOrder(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("CREATE TABLE orders (id uuid PRIMARY KEY, amount numeric)");
        UUID id = UUID.randomUUID();
        placeOrder(db.dataSource(), id, new BigDecimal("9.99"));
        assertThat(db.strings("SELECT payload->>'orderId' FROM pgpubsub.notification"))
                .containsExactly(id.toString(), id.toString(), id.toString());
        assertThat(db.number("SELECT count(*) FROM orders")).isEqualTo(1);
    }
}
