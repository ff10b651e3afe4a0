package dev.pgpubsub.examples;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.TaskContext;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo: installs pgpubsub, starts a listener, publishes orders in the same transaction as the
 * orders themselves, and shows each handler's invoice, written exactly once. It starts an embedded
 * Postgres unless a {@code jdbc:postgresql:} URL is given as the first argument.
 */
public final class Demo {

    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    /** The task: an order was placed. */
    public record OrderPlaced(long orderId, BigDecimal amount) {
    }

    static final Channel<OrderPlaced> ORDERS = Channel.of("orders", OrderPlaced.class);

    /** Writes the invoice of an order, in the transaction that claims the task. */
    public static final class InvoiceHandler {
        private final CountDownLatch remaining;

        InvoiceHandler(CountDownLatch remaining) {
            this.remaining = remaining;
        }

        /** Handles one order. */
        @Listen("orders")
        public void onOrderPlaced(OrderPlaced order, TaskContext context) throws SQLException {
            try (PreparedStatement ps = context.connection().prepareStatement(
                    "INSERT INTO invoice (order_id, amount, task_id) VALUES (?, ?, ?)")) {
                ps.setLong(1, order.orderId());
                ps.setBigDecimal(2, order.amount());
                ps.setLong(3, context.id());
                ps.executeUpdate();
            }
            LOG.info("handled task {} (attempt {}): invoice for order {} over {}", context.id(), context.attempt(),
                    order.orderId(), order.amount());
            remaining.countDown();
        }
    }

    private Demo() {
    }

    /** Runs the demo; the optional argument is a {@code jdbc:postgresql:} URL with user and password. */
    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(args[0]);
            run(args[0], ds);
            return;
        }
        try (EmbeddedPostgres pg = startEmbedded()) {
            LOG.info("Started an embedded Postgres on port {}", pg.getPort());
            run(pg.getJdbcUrl("postgres", "postgres"), pg.getPostgresDatabase());
        }
    }

    static void run(String jdbcUrl, DataSource ds) throws SQLException, InterruptedException {
        int applied = PgPubSub.migrate(ds);
        LOG.info("Schema 'pgpubsub' installed ({} migration(s) applied)", applied);
        try (Connection c = ds.getConnection()) {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS shop_order (id bigint PRIMARY KEY, amount numeric)");
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS invoice (order_id bigint, amount numeric, task_id bigint)");
        }
        List<OrderPlaced> orders = List.of(new OrderPlaced(1, new BigDecimal("10.50")),
                new OrderPlaced(2, new BigDecimal("20.50")), new OrderPlaced(3, new BigDecimal("30.50")));
        CountDownLatch remaining = new CountDownLatch(orders.size());
        try (Listener listener = Listener.builder().jdbcUrl(jdbcUrl).handlers(new InvoiceHandler(remaining)).start()) {
            Publisher publisher = Publisher.create();
            publisher.inNewTransaction(ds, (tx, c) -> {
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO shop_order (id, amount) VALUES (?, ?)")) {
                    for (OrderPlaced order : orders) {
                        insert.setLong(1, order.orderId());
                        insert.setBigDecimal(2, order.amount());
                        insert.executeUpdate();
                    }
                }
                return tx.publishAll(ORDERS, orders); // commits with the orders, or not at all
            });
            LOG.info("Published {} orders; waiting for the listener", orders.size());
            if (!remaining.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("The listener did not handle every order within 60 s");
            }
        }
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT (SELECT count(*) FROM invoice), (SELECT count(*) FROM pgpubsub.notification)")) {
            rs.next();
            LOG.info("{} invoices written, {} tasks pending", rs.getLong(1), rs.getLong(2));
        }
    }

    private static EmbeddedPostgres startEmbedded() throws IOException {
        return EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start();
    }
}
