package dev.pgpubsub.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.RecoveryProgress;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sql.DataSource;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The demo shop, end to end: installs pgpubsub, publishes a backlog of orders while no listener runs
 * (each with its order row, in one transaction), starts a listener (start-up recovery drains the
 * backlog through a cursor, with a progress bar), publishes live orders at a fixed rate, then checks
 * that every order got exactly one invoice and prints a summary. Exit code 0 when the check passes.
 *
 * <p>Arguments: {@code [jdbc:postgresql://... URL] [--backlog N] [--live-seconds S] [--rate R]};
 * without a URL it runs on an embedded Postgres. On a database of yours it keeps its tables in a
 * schema of its own, {@value #SCHEMA} (created if absent; only its tables there are dropped and
 * re-created), and installs pgpubsub in a schema of its own too, {@value #BUS}, so that an
 * installation of the application's (schema {@code pgpubsub}) is neither read nor upgraded.
 */
public final class Demo {

    /** The schema of the demo's tables: the only place it drops anything. */
    static final String SCHEMA = "pgpubsub_demo";

    /** The demo's channel, apart from any channel an application of yours may serve. */
    static final String CHANNEL = "pgpubsub_demo_orders";

    /** The schema of the demo's own pgpubsub installation, apart from the application's. */
    static final String BUS = "pgpubsub_demo_bus";

    /** What a run did and measured. */
    record Summary(long tasks, long invoices, long distinctInvoices, long pending, double recoveryRowsPerSecond,
            long liveTasks, double p50Millis, double p99Millis, double maxMillis, long peakHeapBytes, long handlerCalls) {

        boolean exactlyOnce() {
            return invoices == tasks && distinctInvoices == tasks && pending == 0;
        }
    }

    /** The demo's knobs. */
    record Options(String jdbcUrl, int backlog, int liveSeconds, int rate) {

        /**
         * The options of {@code args}; a bad argument (an unknown flag, a flag without its value, a
         * value that is not a number or out of range) throws {@link CommandLine.ParameterException}.
         */
        static Options parse(String[] args) {
            Arguments arguments = new Arguments();
            CommandLine command = new CommandLine(arguments);
            command.parseArgs(args);
            return arguments.options(command);
        }
    }

    /** The command line, as picocli reads it. */
    @Command(name = "demo", description = {
        "The demo shop: publishes a backlog of orders, drains it with a listener's start-up recovery, publishes live "
                + "orders, and checks that every order got exactly one invoice. Exit code 0 when it did.",
        "On a database of yours it keeps its tables (invoice, shop_order) in the schema " + SCHEMA
                + ", which it creates if absent; it drops and re-creates only those two tables there, and touches "
                + "no other table. Its tasks go to the channel " + CHANNEL + " of a pgpubsub installed in a schema of its "
                + "own, " + BUS + ", so that an installation of yours (schema pgpubsub) is neither read nor upgraded."})
    static final class Arguments {
        @Parameters(arity = "0..1", paramLabel = "JDBC_URL",
                description = "jdbc:postgresql://... of the database to use; without it, an embedded Postgres")
        String jdbcUrl;

        @Option(names = "--backlog", paramLabel = "N", description = "orders published before the listener starts "
                + "(default: ${DEFAULT-VALUE})")
        int backlog = 100_000;

        @Option(names = "--live-seconds", paramLabel = "S", description = "how long live orders are published "
                + "(default: ${DEFAULT-VALUE})")
        int liveSeconds = 5;

        @Option(names = "--rate", paramLabel = "R", description = "live orders per second (default: ${DEFAULT-VALUE})")
        int rate = 500;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "prints this help and exits")
        boolean help;

        Options options(CommandLine command) {
            if (jdbcUrl != null && !jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new CommandLine.ParameterException(command, "'" + jdbcUrl + "' is not a jdbc:postgresql: URL");
            }
            if (backlog < 0 || liveSeconds < 0 || rate < 1) {
                throw new CommandLine.ParameterException(command,
                        "--backlog and --live-seconds must not be negative, and --rate must be at least 1");
            }
            return new Options(jdbcUrl, backlog, liveSeconds, rate);
        }
    }

    private Demo() {
    }

    /** Runs the demo; exits 0 when every order got exactly one invoice. */
    public static void main(String[] args) throws Exception {
        Arguments arguments = new Arguments();
        CommandLine command = new CommandLine(arguments);
        Options options;
        try {
            if (command.parseArgs(args).isUsageHelpRequested()) {
                command.usage(System.out);
                return;
            }
            options = arguments.options(command);
        } catch (CommandLine.ParameterException e) {
            System.err.println("demo: " + e.getMessage());
            command.usage(System.err);
            System.exit(2);
            return;
        }
        Summary summary;
        if (options.jdbcUrl() != null) {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(options.jdbcUrl());
            summary = run(options, ds);
        } else {
            try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start()) {
                say("Started an embedded Postgres on port " + pg.getPort());
                summary = run(new Options(pg.getJdbcUrl("postgres", "postgres"), options.backlog(), options.liveSeconds(),
                        options.rate()), pg.getPostgresDatabase());
            }
        }
        print(summary);
        System.exit(summary.exactlyOnce() ? 0 : 1);
    }

    static Summary run(Options options, DataSource unpooled) throws Exception {
        HikariConfig pool = new HikariConfig();
        pool.setDataSource(unpooled);
        pool.setMaximumPoolSize(4);
        try (HikariDataSource ds = new HikariDataSource(pool)) {
            return drive(options, ds);
        }
    }

    private static final String PENDING = "SELECT count(*) FROM " + BUS + ".notification WHERE channel = '" + CHANNEL + "'";

    private static Summary drive(Options options, DataSource ds) throws Exception {
        say("Installing pgpubsub in the schema " + BUS + ": " + PgPubSub.migrate(ds, BUS) + " migration(s) applied");
        try (Connection c = ds.getConnection()) {
            // Its own schema, always named: whatever the database holds elsewhere stays as it is.
            c.createStatement().execute("CREATE SCHEMA IF NOT EXISTS " + SCHEMA);
            c.createStatement().execute("DROP TABLE IF EXISTS " + SCHEMA + ".invoice, " + SCHEMA + ".shop_order");
            c.createStatement().execute("CREATE TABLE " + SCHEMA + ".shop_order (id bigint PRIMARY KEY, amount numeric NOT NULL)");
            // No unique key on purpose: a task handled twice would show up as a second invoice.
            c.createStatement().execute("CREATE TABLE " + SCHEMA + ".invoice (order_id bigint NOT NULL, amount numeric, task_id bigint)");
            c.createStatement().execute("DELETE FROM " + BUS + ".notification WHERE channel = '" + CHANNEL + "'");
        }
        say("The demo's tables are in the schema " + SCHEMA + "; its tasks go to the channel " + CHANNEL);
        Publisher publisher = Publisher.builder().schema(BUS).build();
        long started = System.nanoTime();
        for (int from = 0; from < options.backlog(); from += 1_000) {
            publishOrders(publisher, ds, from, Math.min(options.backlog(), from + 1_000));
        }
        say(String.format("Published a backlog of %,d orders in %.1f s, while no listener ran", options.backlog(),
                (System.nanoTime() - started) / 1e9));

        int live = options.liveSeconds() * options.rate();
        Map<Long, Long> handlerStart = new ConcurrentHashMap<>(live * 2);
        Map<Long, Long> committedAt = new ConcurrentHashMap<>(live * 2);
        for (long id = options.backlog(); id < options.backlog() + live; id++) {
            handlerStart.put(id, 0L);
        }
        InvoiceHandler handler = new InvoiceHandler(handlerStart);
        double[] recoveryRate = new double[1];
        try (RecoveryBar bar = new RecoveryBar();
                Listener listener = Listener.builder().jdbcUrl(options.jdbcUrl()).schema(BUS).handlers(handler)
                        .onRecoveryProgress(bar.andThen(p -> recoveryRate[0] = p.rowsPerSecond())).start()) {
            awaitTrue(() -> !listener.stats().recovering(), Duration.ofMinutes(30));
            bar.close();
            say(String.format("Recovery drained the backlog at %,.0f orders/s; now publishing %,d live orders/s for %d s",
                    recoveryRate[0], options.rate(), options.liveSeconds()));
            publishLive(publisher, ds, options, committedAt);
            awaitTrue(() -> count(ds, PENDING) == 0, Duration.ofMinutes(5));
        }
        double[] latencies = committedAt.entrySet().stream()
                .mapToDouble(e -> (handlerStart.get(e.getKey()) - e.getValue()) / 1e6).sorted().toArray();
        long total = options.backlog() + (long) live;
        return new Summary(total, count(ds, "SELECT count(*) FROM " + SCHEMA + ".invoice"),
                count(ds, "SELECT count(DISTINCT order_id) FROM " + SCHEMA + ".invoice"),
                count(ds, PENDING), recoveryRate[0], live,
                percentile(latencies, 0.50), percentile(latencies, 0.99), percentile(latencies, 1.0), peakHeap(),
                handler.calls());
    }

    /** One transaction: the orders' rows and their tasks, committed together. */
    private static void publishOrders(Publisher publisher, DataSource ds, long from, long to) {
        publisher.inNewTransaction(ds, (tx, c) -> {
            List<OrderPlaced> orders = new ArrayList<>((int) (to - from));
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + SCHEMA + ".shop_order (id, amount) VALUES (?, ?)")) {
                for (long id = from; id < to; id++) {
                    OrderPlaced order = new OrderPlaced(id, BigDecimal.valueOf(id % 1_000, 2));
                    insert.setLong(1, order.orderId());
                    insert.setBigDecimal(2, order.amount());
                    insert.addBatch();
                    orders.add(order);
                }
                insert.executeBatch();
            }
            return tx.publishAll(OrderPlaced.CHANNEL, orders);
        });
    }

    /** One order per transaction at a fixed rate; notes when each commit returned. */
    private static void publishLive(Publisher publisher, DataSource ds, Options options, Map<Long, Long> committedAt)
            throws InterruptedException {
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / options.rate();
        long next = System.nanoTime();
        long first = options.backlog();
        for (long id = first; id < first + (long) options.liveSeconds() * options.rate(); id++) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            next += intervalNanos;
            publishOrders(publisher, ds, id, id + 1);
            committedAt.put(id, System.nanoTime());
        }
    }

    private static void print(Summary s) {
        say("");
        say("=== pgpubsub demo summary ===");
        say(String.format("tasks published        %,d (%,d backlog + %,d live)", s.tasks(), s.tasks() - s.liveTasks(),
                s.liveTasks()));
        say(String.format("invoices written       %,d (distinct orders: %,d; handler calls: %,d)", s.invoices(),
                s.distinctInvoices(), s.handlerCalls()));
        say(String.format("tasks still pending    %,d", s.pending()));
        say(String.format("recovery rate          %,.0f tasks/s", s.recoveryRowsPerSecond()));
        say(String.format("live latency (commit -> handler start)  p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                s.p50Millis(), s.p99Millis(), s.maxMillis()));
        say(String.format("peak heap              %.1f MiB", s.peakHeapBytes() / (1024.0 * 1024.0)));
        say(s.exactlyOnce() ? "exactly once: every order has exactly one invoice" : "CHECK FAILED: see the figures above");
    }

    private static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    }

    private static long peakHeap() {
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                .map(MemoryPoolMXBean::getPeakUsage).mapToLong(u -> u.getUsed()).sum();
    }

    static long count(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Check check, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Timed out after " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static void say(String line) {
        System.out.println(line);
    }

    /** Start-up recovery's progress bar. */
    private static final class RecoveryBar implements Consumer<RecoveryProgress>, AutoCloseable {
        private ProgressBar bar;

        @Override
        public synchronized void accept(RecoveryProgress p) {
            if (bar == null) {
                bar = new ProgressBarBuilder().setTaskName("Recovery").setInitialMax(Math.max(1, p.estimatedRows()))
                        .setStyle(ProgressBarStyle.ASCII).setUnit(" tasks", 1).showSpeed().continuousUpdate().build();
            }
            bar.maxHint(Math.max(bar.getMax(), p.rowsRead()));
            bar.stepTo(p.rowsDone());
        }

        @Override
        public synchronized void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
