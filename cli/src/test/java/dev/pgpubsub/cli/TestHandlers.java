package dev.pgpubsub.cli;

import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** Handler beans the process tests name by class. */
public final class TestHandlers {

    private TestHandlers() {
    }

    /** A task of channel "orders". */
    public record Order(long n) {
    }

    /** Writes one {@code handled} row per task, in the claiming transaction; a little slow on purpose. */
    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException, InterruptedException {
            try (PreparedStatement ps = context.connection().prepareStatement("INSERT INTO handled (n, attempt) VALUES (?, ?)")) {
                ps.setLong(1, order.n());
                ps.setInt(2, context.attempt());
                ps.executeUpdate();
            }
            Thread.sleep(Long.getLong("pgpubsub.test.handler.millis", 0));
        }
    }

    /** Has no public no-argument constructor. */
    public static class NeedsArgument {
        public NeedsArgument(String argument) {
        }

        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    /** Has no handler method. */
    public static class NoHandlers {
        public void onOrder(Order order) {
        }
    }
}
