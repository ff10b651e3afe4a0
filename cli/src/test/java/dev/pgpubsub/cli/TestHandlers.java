package dev.pgpubsub.cli;

import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    /** A task of channel "refunds". */
    public record Refund(long n) {
    }

    /** Logs each refund through SLF4J and writes its {@code handled} row; refuses a negative one, once and for all. */
    public static class Refunds {
        private static final Logger LOG = LoggerFactory.getLogger(Refunds.class);

        @Listen(value = "refunds", maxAttempts = 1)
        public void onRefund(Refund refund, TaskContext context) throws SQLException {
            LOG.info("refund {}", refund.n());
            if (refund.n() < 0) {
                throw new IllegalStateException("refund " + refund.n() + " refused");
            }
            try (PreparedStatement ps = context.connection().prepareStatement("INSERT INTO handled (n, attempt) VALUES (?, ?)")) {
                ps.setLong(1, refund.n());
                ps.setInt(2, context.attempt());
                ps.executeUpdate();
            }
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
