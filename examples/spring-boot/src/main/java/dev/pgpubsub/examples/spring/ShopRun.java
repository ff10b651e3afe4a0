package dev.pgpubsub.examples.spring;

import java.math.BigDecimal;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * What a run of the shop does once the application has started (and with it, the listener): places
 * {@code shop.orders} orders (200 by default), each in a transaction of its own, waits at most
 * {@code shop.timeout} (60 s by default) until every one of them has an invoice and no task of theirs
 * is pending, prints a summary, and sets the application's exit code: 0 when every order got
 * exactly one invoice, 1 otherwise. {@code shop.run=false} turns it off (in tests of single beans).
 */
@Component
@ConditionalOnBooleanProperty(name = "shop.run", matchIfMissing = true)
public class ShopRun implements ApplicationRunner, ExitCodeGenerator {

    /** What a run did. */
    record Summary(long orders, long invoices, long distinctOrders, long pending, Duration time) {

        boolean exactlyOnce() {
            return orders > 0 ? invoices == orders && distinctOrders == orders && pending == 0 : pending == 0;
        }
    }

    private final OrderService orderService;
    private final ShopOrderRepository orders;
    private final InvoiceRepository invoices;
    private final JdbcTemplate jdbc;
    private final int count;
    private final Duration timeout;
    private final String pendingSql;
    private volatile Summary summary;

    /**
     * Created by Spring.
     *
     * @param orderService places the orders
     * @param orders       the orders' repository
     * @param invoices     the invoices' repository
     * @param jdbc         counts the pending tasks
     * @param count        how many orders to place ({@code shop.orders})
     * @param timeout      how long to wait for their invoices ({@code shop.timeout})
     * @param schema       the schema of pgpubsub's tables ({@code pgpubsub.schema})
     */
    public ShopRun(OrderService orderService, ShopOrderRepository orders, InvoiceRepository invoices, JdbcTemplate jdbc,
            @Value("${shop.orders:200}") int count, @Value("${shop.timeout:60s}") Duration timeout,
            @Value("${pgpubsub.schema:pgpubsub}") String schema) {
        this.orderService = orderService;
        this.orders = orders;
        this.invoices = invoices;
        this.jdbc = jdbc;
        this.count = count;
        this.timeout = timeout;
        this.pendingSql = "SELECT count(*) FROM " + schema + ".notification WHERE channel = '"
                + OrderPlaced.CHANNEL.name() + "'";
    }

    @Override
    public void run(ApplicationArguments args) throws InterruptedException {
        long started = System.nanoTime();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (int i = 0; i < count; i++) {
            long id = orderService.placeOrder(BigDecimal.valueOf(100 + i % 900, 2)).getId();
            first = Math.min(first, id);
            last = Math.max(last, id);
        }
        System.out.printf("Placed %,d orders; waiting for their invoices%n", count);
        long deadline = started + timeout.toNanos();
        Summary s = count(first, last, started);
        while (!s.exactlyOnce() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = count(first, last, started);
        }
        if (s.invoices() == s.orders() && s.pending() == 0) {
            // Settled: wait a moment more, so that a duplicate committed late would show too.
            Thread.sleep(200);
            s = count(first, last, started);
        }
        summary = s;
        print(s);
    }

    private Summary count(long first, long last, long started) {
        Long pending = jdbc.queryForObject(pendingSql, Long.class);
        return new Summary(orders.countByIdBetween(first, last), invoices.countByOrderIdBetween(first, last),
                invoices.countDistinctOrdersBetween(first, last), pending == null ? 0 : pending,
                Duration.ofNanos(System.nanoTime() - started));
    }

    private static void print(Summary s) {
        System.out.println();
        System.out.println("=== pgpubsub Spring Boot shop ===");
        System.out.printf("orders placed      %,d%n", s.orders());
        System.out.printf("invoices written   %,d (distinct orders: %,d)%n", s.invoices(), s.distinctOrders());
        System.out.printf("tasks pending      %,d%n", s.pending());
        System.out.printf("time               %.1f s%n", s.time().toNanos() / 1e9);
        System.out.println(s.exactlyOnce() ? "exactly once: every order has exactly one invoice"
                : "CHECK FAILED: see the figures above");
    }

    /**
     * The run's summary.
     *
     * @return what the run did, or null before it ended
     */
    Summary summary() {
        return summary;
    }

    /**
     * The application's exit code.
     *
     * @return 0 when every order got exactly one invoice, 1 otherwise
     */
    @Override
    public int getExitCode() {
        Summary s = summary;
        return s != null && s.exactlyOnce() ? 0 : 1;
    }
}
