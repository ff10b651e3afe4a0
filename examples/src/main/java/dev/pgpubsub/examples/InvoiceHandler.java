package dev.pgpubsub.examples;

import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writes the invoice of each order, in the transaction that claims the task: the invoice commits
 * exactly once, together with the task's deletion.
 */
public final class InvoiceHandler {

    private final Map<Long, Long> startedAt;
    private final LongAdder calls = new LongAdder();

    /** A handler that notes, for the orders in {@code startedAt}'s key set, when it started. */
    InvoiceHandler(Map<Long, Long> startedAt) {
        this.startedAt = startedAt;
    }

    /** Handles one order. */
    @Listen(Demo.CHANNEL)
    public void onOrderPlaced(OrderPlaced order, TaskContext context) throws SQLException {
        startedAt.computeIfPresent(order.orderId(), (id, unset) -> unset == 0 ? System.nanoTime() : unset);
        calls.increment();
        try (PreparedStatement ps = context.connection().prepareStatement(
                "INSERT INTO " + Demo.SCHEMA + ".invoice (order_id, amount, task_id) VALUES (?, ?, ?)")) {
            ps.setLong(1, order.orderId());
            ps.setBigDecimal(2, order.amount());
            ps.setLong(3, context.id());
            ps.executeUpdate();
        }
    }

    long calls() {
        return calls.sum();
    }
}
