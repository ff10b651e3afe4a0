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
import java.util.concurrent.CountDownLatch;
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
 * <p>Arguments: {@code [jdbc:postgresql://... URL] [--backlog N] [--live-seconds S] [--rate R]
 * [--dead-letters N] [--keep-running]}; without a URL it runs on an embedded Postgres. With
 * {@code --dead-letters N} it then inserts N dead letters on its channels (reasons and error
 * histories as a listener writes them, a few payloads with markup), for the console to show; with
 * {@code --keep-running} it keeps the database and a listener running, prints the command line of a
 * console on them, and waits for Ctrl-C or SIGTERM. On a database of yours it keeps its tables in a
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

    /** The channels of the dead letters that {@code --dead-letters} inserts (and replaces). */
    static final List<String> DEAD_LETTER_CHANNELS = List.of(CHANNEL, "pgpubsub_demo_emails", "pgpubsub_demo_shipping");

    /** What a run did and measured. */
    record Summary(long tasks, long invoices, long distinctInvoices, long pending, double recoveryRowsPerSecond,
            long liveTasks, double p50Millis, double p99Millis, double maxMillis, long peakHeapBytes, long handlerCalls,
            long deadLetters) {

        boolean exactlyOnce() {
            return invoices == tasks && distinctInvoices == tasks && pending == 0;
        }

        Summary withDeadLetters(long n) {
            return new Summary(tasks, invoices, distinctInvoices, pending, recoveryRowsPerSecond, liveTasks, p50Millis,
                    p99Millis, maxMillis, peakHeapBytes, handlerCalls, n);
        }
    }

    /** The demo's knobs. */
    record Options(String jdbcUrl, int backlog, int liveSeconds, int rate, int deadLetters, boolean keepRunning) {

        /** The options of a run that seeds no dead letters and exits when done. */
        Options(String jdbcUrl, int backlog, int liveSeconds, int rate) {
            this(jdbcUrl, backlog, liveSeconds, rate, 0, false);
        }

        Options withJdbcUrl(String url) {
            return new Options(url, backlog, liveSeconds, rate, deadLetters, keepRunning);
        }

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

        @Option(names = "--dead-letters", paramLabel = "N", description = "after the run, inserts N dead letters on the "
                + "demo's channels (" + CHANNEL + ", pgpubsub_demo_emails, pgpubsub_demo_shipping), replacing those of an "
                + "earlier run: reasons and error histories as a listener writes them, a few payloads with markup; for "
                + "the console to show (default: ${DEFAULT-VALUE})")
        int deadLetters;

        @Option(names = "--keep-running", description = "instead of exiting, keeps the database and a listener running "
                + "(with a trickle of new orders), prints the command line of a console on them, and waits for Ctrl-C "
                + "or SIGTERM")
        boolean keepRunning;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "prints this help and exits")
        boolean help;

        Options options(CommandLine command) {
            if (jdbcUrl != null && !jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new CommandLine.ParameterException(command, "'" + jdbcUrl + "' is not a jdbc:postgresql: URL");
            }
            if (backlog < 0 || liveSeconds < 0 || rate < 1 || deadLetters < 0) {
                throw new CommandLine.ParameterException(command,
                        "--backlog, --live-seconds and --dead-letters must not be negative, and --rate must be at least 1");
            }
            return new Options(jdbcUrl, backlog, liveSeconds, rate, deadLetters, keepRunning);
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
        CountDownLatch closed = new CountDownLatch(1);
        try {
            if (options.jdbcUrl() != null) {
                PGSimpleDataSource ds = new PGSimpleDataSource();
                ds.setURL(options.jdbcUrl());
                summary = run(options, ds);
                print(summary);
                if (options.keepRunning()) {
                    keepRunning(options, ds, "--jdbc-url '" + options.jdbcUrl() + "'", summary.tasks(), closed);
                    return; // stopped by the shutdown hook: the JVM is exiting already
                }
            } else {
                try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start()) {
                    say("Started an embedded Postgres on port " + pg.getPort());
                    Options embedded = options.withJdbcUrl(pg.getJdbcUrl("postgres", "postgres"));
                    summary = run(embedded, pg.getPostgresDatabase());
                    print(summary);
                    if (options.keepRunning()) {
                        String url = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
                        say("");
                        say("JDBC URL  " + url);
                        say("user      postgres (no password)");
                        keepRunning(embedded, pg.getPostgresDatabase(), "--jdbc-url " + url + " --user postgres",
                                summary.tasks(), closed);
                        say("Stopping the embedded Postgres");
                        return; // stopped by the shutdown hook: the JVM is exiting already
                    }
                }
            }
        } finally {
            closed.countDown(); // the database is closed: the shutdown hook may let the JVM go
        }
        System.exit(summary.exactlyOnce() ? 0 : 1);
    }

    /**
     * Keeps a listener running (and publishes five orders a second, for the console's chart) until
     * the JVM is asked to stop (Ctrl-C, SIGTERM): a shutdown hook then ends the wait here, and waits in
     * turn until {@code closed} says the caller closed the database.
     */
    private static void keepRunning(Options options, DataSource unpooled, String connection, long firstOrder,
            CountDownLatch closed) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                closed.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-shutdown"));
        HikariConfig pool = new HikariConfig();
        pool.setDataSource(unpooled);
        pool.setMaximumPoolSize(2);
        try (HikariDataSource ds = new HikariDataSource(pool);
                Listener listener = Listener.builder().jdbcUrl(options.jdbcUrl()).schema(BUS)
                        .handlers(new InvoiceHandler(new ConcurrentHashMap<>())).start()) {
            say("A listener runs on the channel " + CHANNEL + ", busy with five new orders a second. Look at it with:");
            say("");
            say("  bin/pgpubsub console " + connection + " --schema " + BUS);
            say("");
            say("bin/pgpubsub is the distribution's: ./mvnw -q -pl cli -am package -DskipTests builds it in"
                    + " cli/target/pgpubsub-<version>/pgpubsub-<version>/. Ctrl-C stops the demo.");
            Publisher publisher = Publisher.builder().schema(BUS).build();
            for (long id = firstOrder; !stop.await(200, TimeUnit.MILLISECONDS); id++) {
                publishOrders(publisher, ds, id, id + 1);
            }
            say("Stopping the listener");
        }
    }

    static Summary run(Options options, DataSource unpooled) throws Exception {
        HikariConfig pool = new HikariConfig();
        pool.setDataSource(unpooled);
        pool.setMaximumPoolSize(4);
        try (HikariDataSource ds = new HikariDataSource(pool)) {
            Summary summary = drive(options, ds);
            return options.deadLetters() > 0 ? summary.withDeadLetters(seedDeadLetters(ds, options.deadLetters())) : summary;
        }
    }

    /**
     * Replaces the dead letters of the demo's channels with {@code n} new ones, newest first 9 s
     * apart: five kinds of failure (a payment gateway's timeouts, a missing billing address, a mail
     * server's refusals, attempts that never finished, unreadable payloads), each with the reason
     * and the error history a listener writes; a few of the newest payloads hold markup (a
     * {@code <script>} element), which the console shows as text.
     */
    static long seedDeadLetters(DataSource ds, int n) throws SQLException {
        String channels = "'" + String.join("', '", DEAD_LETTER_CHANNELS) + "'";
        String sql = "WITH kind (k, channel, attempts, error, reason) AS (VALUES"
                + " (0, '" + CHANNEL + "', 5, 'java.net.SocketTimeoutException: Read timed out after 10000 ms"
                + " (POST https://payments.example/v1/charges)', 'failed 5 of 5 attempts'),"
                + " (1, '" + CHANNEL + "', 3, 'java.lang.IllegalStateException: customer has no billing address',"
                + " 'failed 3 of 3 attempts'),"
                + " (2, 'pgpubsub_demo_emails', 4, 'jakarta.mail.MessagingException: 421 4.7.0 Try again later,"
                + " closing connection', 'failed 4 of 4 attempts'),"
                + " (3, 'pgpubsub_demo_shipping', 2, 'org.postgresql.util.PSQLException: ERROR: canceling statement"
                + " due to statement timeout', 'attempt 2 of 2 never finished (its process died or lost its connection)'),"
                + " (4, 'pgpubsub_demo_shipping', 1, 'com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot"
                + " deserialize value of type `long` from String \"12-a\"', 'payload unreadable: Cannot deserialize value"
                + " of type `long` from String \"12-a\"')),"
                + " d AS (SELECT i, kind.*, now() - i * interval '9 seconds' AS dead_at"
                + " FROM generate_series(1, ?) i JOIN kind ON kind.k = i % 5)"
                + " INSERT INTO " + BUS + ".dead_letter (id, channel, payload, created_at, attempts, errors, reason, dead_at)"
                + " SELECT nextval(pg_get_serial_sequence('" + BUS + ".notification', 'id')), channel,"
                + " CASE WHEN i < 50 AND i % 14 = 3 THEN jsonb_build_object('orderId', 1000000 + i, 'giftNote',"
                + " '<script>alert(''Happy birthday!'')</script><b>From Ada</b>')"
                + " WHEN channel = 'pgpubsub_demo_emails' THEN jsonb_build_object('to', 'customer' || i || '@example.com',"
                + " 'template', 'invoice', 'orderId', 1000000 + i)"
                + " WHEN k = 4 THEN jsonb_build_object('orderId', '12-a', 'carrier', 'DHL')"
                + " ELSE jsonb_build_object('orderId', 1000000 + i, 'amount', round((i * 37 % 100000) / 100.0, 2)) END,"
                + " dead_at - attempts * interval '1 minute', attempts,"
                + " (SELECT jsonb_agg(jsonb_build_object('attempt', a, 'at', dead_at - (attempts - a) * interval '1 minute',"
                + " 'error', CASE WHEN k = 3 AND a = attempts THEN 'the attempt never finished' ELSE error END) ORDER BY a)"
                + " FROM generate_series(1, attempts) a),"
                + " reason, dead_at FROM d";
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            c.createStatement().execute("DELETE FROM " + BUS + ".dead_letter WHERE channel IN (" + channels + ")");
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setInt(1, n);
                ps.executeUpdate();
            }
            c.commit();
        }
        long count = count(ds, "SELECT count(*) FROM " + BUS + ".dead_letter WHERE channel IN (" + channels + ")");
        say(String.format("Inserted %,d dead letters on the channels %s", count, String.join(", ", DEAD_LETTER_CHANNELS)));
        return count;
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
                handler.calls(), 0);
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
        if (s.deadLetters() > 0) {
            say(String.format("dead letters seeded    %,d (for the console)", s.deadLetters()));
        }
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
