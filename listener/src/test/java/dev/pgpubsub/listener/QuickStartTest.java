package dev.pgpubsub.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The README's handler example, compiled and run. Keep the two in step. */
@PostgresTest
class QuickStartTest {

    // quick-start:begin
    record OrderPlaced(UUID orderId, BigDecimal amount) {}

    static final Channel<OrderPlaced> ORDERS = Channel.of("orders", OrderPlaced.class);

    public static class OrderHandlers {
        @Listen("orders")
        public void onOrderPlaced(OrderPlaced order, TaskContext context) throws SQLException {
            // Runs inside the transaction that claims the task: this insert commits exactly once,
            // together with the task's deletion, or rolls back with it if anything throws.
            try (PreparedStatement ps = context.connection().prepareStatement(
                    "INSERT INTO invoices (order_id, amount) VALUES (?, ?)")) {
                ps.setObject(1, order.orderId());
                ps.setBigDecimal(2, order.amount());
                ps.executeUpdate();
            }
        }
    }

    static Listener startListener(String jdbcUrl, String user, String password) {
        return Listener.builder()
                .jdbcUrl(jdbcUrl).user(user).password(password)
                .handlers(new OrderHandlers())
                .workers(4)
                .retryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(10))
                .start();
    }
    // quick-start:end

    @Test
    void theQuickStartHandlerWritesOneInvoicePerOrder(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        Fixtures.execute(db, "CREATE TABLE invoices (order_id uuid, amount numeric)");
        try (Listener listener = startListener(db.jdbcUrl(), db.user(), null)) {
            Publisher.create().publish(db.dataSource(), ORDERS, new OrderPlaced(UUID.randomUUID(), new BigDecimal("9.99")));
            await().atMost(Fixtures.AWAIT).until(() -> Fixtures.count(db, "SELECT count(*) FROM invoices") == 1);
            assertThat(Fixtures.strings(db, "SELECT amount FROM invoices")).containsExactly("9.99");
            assertThat(listener.channels()).containsExactly("orders");
        }
    }
}
