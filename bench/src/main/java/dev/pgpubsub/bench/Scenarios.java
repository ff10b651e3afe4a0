package dev.pgpubsub.bench;

import com.impossibl.postgres.api.jdbc.PGConnection;
import com.impossibl.postgres.api.jdbc.PGNotificationListener;
import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerBuilder;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.LongStream;

/** The measurements themselves, each on a fresh database given by the caller. */
final class Scenarios {

    /** A benchmark task. */
    record Task(long n) {
    }

    static final Channel<Task> BENCH = Channel.of("bench", Task.class);
    private static final Duration LIMIT = Duration.ofMinutes(30);
    /** Transactions of the latency scenarios' warm-up, before the measured ones, and their pace. */
    private static final int WARM_UP = 2_000;
    private static final long WARM_UP_INTERVAL = TimeUnit.MILLISECONDS.toNanos(1);

    private Scenarios() {
    }

    /** Installs pgpubsub and {@code n} due tasks, as a backlog published while no listener ran. */
    static void seed(TestDatabase db, long n) throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) SELECT 'bench', jsonb_build_object('n', g) "
                + "FROM generate_series(1, " + n + ") g");
        db.execute("VACUUM ANALYZE pgpubsub.notification");
    }

    /**
     * {@code n} due tasks of four priorities (0, 10, 20, 30, in turn: three in four in the partial
     * index of priorities) each with a unique key, and as many delayed tasks of priority 90, due in
     * an hour, ahead of them in claim order.
     */
    static void seedWithPriorities(TestDatabase db, long n) throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, priority, key) SELECT 'bench', "
                + "jsonb_build_object('n', g), (g % 4) * 10, 'task-' || g FROM generate_series(1, " + n + ") g");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, priority, key, run_at) SELECT 'bench', "
                + "jsonb_build_object('n', g), 90, 'later-' || g, now() + interval '1 hour' FROM generate_series(1, "
                + n + ") g");
        db.execute("VACUUM ANALYZE pgpubsub.notification");
    }

    /** The name of a variant of the priorities scenario. */
    static String prioritiesVariant(long tasks, int workers, int batch, boolean mixed) {
        return "pgpubsub " + Bench.count(tasks) + " workers=" + workers + " batch=" + batch
                + (mixed ? ", priorities+keys" : ", plain");
    }

    /**
     * Burns down {@code n} due tasks: plain ones ({@link #seed}), or with priorities and keys in use
     * ({@link #seedWithPriorities}).
     *
     * @return as {@link #burnDown(TestDatabase, long, int, int, boolean)}
     */
    static double[] prioritiesBurnDown(TestDatabase db, long n, int workers, int batch, boolean mixed) throws Exception {
        if (mixed) {
            seedWithPriorities(db, n);
        } else {
            seed(db, n);
        }
        return burnDown(db, n, workers, batch, false, List.of(BENCH), builder -> { });
    }

    /** The server's WAL position now, in bytes. */
    static long walBytes(TestDatabase db) throws SQLException {
        return db.number("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
    }

    /** Transactions committed in the database so far (flushed statistics of ended sessions included). */
    static long commits(TestDatabase db) throws SQLException {
        return db.number("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
    }

    /**
     * Our claim loop (no start-up recovery) burning down {@code n} seeded tasks with no-op handlers.
     *
     * @return {tasks per second, commits per task, WAL bytes per task, JVM CPU microseconds per task}
     */
    static double[] burnDown(TestDatabase db, long n, int workers, int batch, boolean pgjdbcNgWorkers) throws Exception {
        seed(db, n);
        return burnDown(db, n, workers, batch, pgjdbcNgWorkers, List.of(BENCH), builder -> { });
    }

    /**
     * {@code perChannel} tasks on each of {@code channels} channels, burnt down by one listener that
     * serves them all.
     *
     * @return as {@link #burnDown(TestDatabase, long, int, int, boolean)}
     */
    static double[] channelsBurnDown(TestDatabase db, int channels, long perChannel, int workers, int batch)
            throws Exception {
        PgPubSub.migrate(db.dataSource());
        List<Channel<Task>> all = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
            all.add(Channel.of(String.format("bench_%04d", c), Task.class));
        }
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) SELECT format('bench_%s', lpad(c::text, 4, '0')), "
                + "jsonb_build_object('n', g) FROM generate_series(0, " + (channels - 1) + ") c, generate_series(1, "
                + perChannel + ") g ORDER BY g, c");
        db.execute("VACUUM ANALYZE pgpubsub.notification");
        return burnDown(db, channels * perChannel, workers, batch, false, all, builder -> { });
    }

    /**
     * Burns down {@code n} tasks already in the table, on a listener that serves {@code channels},
     * set up further by {@code configure}.
     *
     * @return as {@link #burnDown(TestDatabase, long, int, int, boolean)}
     */
    static double[] burnDown(TestDatabase db, long n, int workers, int batch, boolean pgjdbcNgWorkers,
            List<Channel<Task>> channels, Consumer<ListenerBuilder> configure) throws Exception {
        long commitsBefore = commits(db);
        long walBefore = walBytes(db);
        String url = pgjdbcNgWorkers ? db.jdbcUrl().replace("jdbc:postgresql:", "jdbc:pgsql:") : db.jdbcUrl();
        ListenerBuilder builder = Listener.builder().jdbcUrl(url).user(db.user()).password(password(db)).workers(workers)
                .batchSize(batch).recoverOnStart(false).pollInterval(Duration.ofMinutes(10));
        channels.forEach(channel -> builder.on(channel, (task, context) -> { }));
        configure.accept(builder);
        long cpuBefore = Profile.processCpuNanos();
        long start = System.nanoTime();
        long elapsed;
        long cpu;
        try (Listener listener = builder.start()) {
            awaitDone(() -> listener.stats().tasksDone() >= n);
            elapsed = System.nanoTime() - start;
            cpu = Profile.processCpuNanos() - cpuBefore;
        }
        long wal = walBytes(db) - walBefore;
        return new double[] {n / seconds(elapsed), commitsAfterSessionsEnd(db, commitsBefore) / (double) n,
            wal / (double) n, cpu / 1e3 / n};
    }

    /**
     * The raw ceiling: hand-written JDBC, {@code threads} connections each deleting batches of due rows
     * with {@code FOR UPDATE SKIP LOCKED} and committing per batch, until the table is empty.
     *
     * @return {rows per second, commits per row, WAL bytes per row, JVM CPU microseconds per row}
     */
    static double[] rawBurnDown(TestDatabase db, long n, int threads, int batch) throws Exception {
        seed(db, n);
        long commitsBefore = commits(db);
        long walBefore = walBytes(db);
        String sql = "DELETE FROM pgpubsub.notification WHERE id IN (SELECT id FROM pgpubsub.notification "
                + "WHERE channel = 'bench' AND run_at <= now() ORDER BY run_at, id LIMIT " + batch
                + " FOR UPDATE SKIP LOCKED) RETURNING id, payload::text";
        AtomicLong done = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Connection c = db.connect();
            c.setAutoCommit(false);
            connections.add(c);
        }
        long cpuBefore = Profile.processCpuNanos();
        long start = System.nanoTime();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (Connection c : connections) {
                running.add(pool.submit(() -> {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        while (true) {
                            int rows = 0;
                            try (ResultSet rs = ps.executeQuery()) {
                                while (rs.next()) {
                                    rs.getString(2);
                                    rows++;
                                }
                            }
                            c.commit();
                            if (rows == 0) {
                                return null;
                            }
                            done.addAndGet(rows);
                        }
                    }
                }));
            }
            for (Future<?> f : running) {
                f.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
            for (Connection c : connections) {
                c.close();
            }
        }
        long elapsed = System.nanoTime() - start;
        long cpu = Profile.processCpuNanos() - cpuBefore;
        if (done.get() != n) {
            throw new IllegalStateException("raw burn-down deleted " + done.get() + " rows of " + n);
        }
        long wal = walBytes(db) - walBefore;
        return new double[] {n / seconds(elapsed), commitsAfterSessionsEnd(db, commitsBefore) / (double) n, wal / (double) n,
            cpu / 1e3 / n};
    }

    /**
     * Live latency of ours: a publisher at a fixed rate, each task in its own transaction; the time from
     * the publisher's call to commit to the handler's start, in microseconds.
     */
    static long[] latency(TestDatabase db, int ratePerSecond, Duration duration) throws Exception {
        PgPubSub.migrate(db.dataSource());
        int count = (int) (ratePerSecond * duration.toMillis() / 1000);
        AtomicLongArray committing = new AtomicLongArray(count);
        AtomicLongArray started = new AtomicLongArray(count);
        CountDownLatch all = new CountDownLatch(count);
        CountDownLatch warm = new CountDownLatch(WARM_UP);
        Publisher publisher = Publisher.create();
        try (Listener listener = Listener.builder().jdbcUrl(db.jdbcUrl()).user(db.user()).password(password(db))
                .on(BENCH, (task, context) -> {
                    if (task.n() < 0) {
                        warm.countDown();
                        return;
                    }
                    started.set((int) task.n(), System.nanoTime());
                    all.countDown();
                }).start(); Connection c = db.connect()) {
            c.setAutoCommit(false);
            // The whole path warms up first, as the raw one does: publisher, wake-up, claim, handler.
            long next = System.nanoTime();
            for (int i = 0; i < WARM_UP; i++) {
                LockSupport.parkNanos(next - System.nanoTime());
                publisher.in(c).publish(BENCH, new Task(-1 - i));
                c.commit();
                next += WARM_UP_INTERVAL;
            }
            if (!warm.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the warm-up tasks were not handled within " + LIMIT);
            }
            long interval = 1_000_000_000L / ratePerSecond;
            next = System.nanoTime();
            for (int i = 0; i < count; i++) {
                LockSupport.parkNanos(next - System.nanoTime());
                publisher.in(c).publish(BENCH, new Task(i));
                committing.set(i, System.nanoTime());
                c.commit();
                next += interval;
            }
            if (!all.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("not every task was handled within " + LIMIT);
            }
        }
        long[] micros = new long[count];
        for (int i = 0; i < count; i++) {
            micros[i] = (started.get(i) - committing.get(i)) / 1_000;
        }
        return micros;
    }

    /**
     * The raw latency ceiling: INSERT + NOTIFY (with the row's number as payload) in one transaction,
     * received by a pgjdbc-ng connection listening on its own; microseconds from the call to commit
     * to the notification's arrival.
     */
    static long[] rawLatency(TestDatabase db, int ratePerSecond, Duration duration) throws Exception {
        PgPubSub.migrate(db.dataSource());
        int count = (int) (ratePerSecond * duration.toMillis() / 1000);
        AtomicLongArray committing = new AtomicLongArray(count);
        AtomicLongArray received = new AtomicLongArray(count);
        CountDownLatch all = new CountDownLatch(count);
        Properties props = new Properties();
        props.setProperty("user", db.user());
        if (!db.password().isEmpty()) {
            props.setProperty("password", db.password());
        }
        try (Connection listen = DriverManager.getConnection(db.pgjdbcNgUrl(), props); Connection c = db.connect()) {
            listen.unwrap(PGConnection.class).addNotificationListener(new PGNotificationListener() {
                @Override
                public void notification(int processId, String channel, String payload) {
                    if (!payload.startsWith("w")) {
                        received.set(Integer.parseInt(payload), System.nanoTime());
                        all.countDown();
                    }
                }
            });
            try (Statement s = listen.createStatement()) {
                s.execute("LISTEN raw_bench");
            }
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO pgpubsub.notification (channel, payload) VALUES ('raw', jsonb_build_object('n', ?))");
                    PreparedStatement notify = c.prepareStatement("SELECT pg_notify('raw_bench', ?)")) {
                long next = System.nanoTime();
                for (int i = 0; i < WARM_UP; i++) {
                    LockSupport.parkNanos(next - System.nanoTime());
                    insert.setLong(1, i);
                    insert.executeUpdate();
                    notify.setString(1, "w" + i);
                    notify.executeQuery().close();
                    c.commit();
                    next += WARM_UP_INTERVAL;
                }
                long interval = 1_000_000_000L / ratePerSecond;
                next = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    LockSupport.parkNanos(next - System.nanoTime());
                    insert.setLong(1, i);
                    insert.executeUpdate();
                    notify.setString(1, Integer.toString(i));
                    notify.executeQuery().close();
                    committing.set(i, System.nanoTime());
                    c.commit();
                    next += interval;
                }
            }
            if (!all.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("not every notification arrived within " + LIMIT);
            }
        }
        long[] micros = new long[count];
        for (int i = 0; i < count; i++) {
            micros[i] = (received.get(i) - committing.get(i)) / 1_000;
        }
        return micros;
    }

    /**
     * Publishing throughput: {@code threads} threads, {@code perThread} transactions each of
     * {@code batch} tasks; {@code wakeUp} false writes the rows without NOTIFY (the same INSERT).
     *
     * @return tasks per second
     */
    static double publishing(TestDatabase db, int threads, int perThread, int batch, boolean wakeUp) throws Exception {
        PgPubSub.migrate(db.dataSource());
        Publisher publisher = Publisher.create();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            running.add(pool.submit(() -> {
                try (Connection c = db.connect();
                        PreparedStatement plain = c.prepareStatement(
                                "INSERT INTO pgpubsub.notification (channel, payload) SELECT 'bench', jsonb_build_object('n', g) "
                                        + "FROM generate_series(?::bigint, ?::bigint) g")) {
                    c.setAutoCommit(false);
                    ready.countDown();
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        long from = ((long) thread * perThread + i) * batch;
                        if (wakeUp) {
                            if (batch == 1) {
                                publisher.in(c).publish(BENCH, new Task(from));
                            } else {
                                publisher.in(c).publishAll(BENCH, LongStream.range(from, from + batch).mapToObj(Task::new).toList());
                            }
                        } else {
                            plain.setLong(1, from);
                            plain.setLong(2, from + batch - 1);
                            plain.executeUpdate();
                        }
                        c.commit();
                    }
                }
                return null;
            }));
        }
        ready.await();
        long start = System.nanoTime();
        go.countDown();
        try {
            for (Future<?> f : running) {
                f.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        long elapsed = System.nanoTime() - start;
        long rows = db.number("SELECT count(*) FROM pgpubsub.notification");
        long expected = (long) threads * perThread * batch;
        if (rows != expected) {
            throw new IllegalStateException("published " + rows + " rows, expected " + expected);
        }
        return expected / seconds(elapsed);
    }

    private static long commitsAfterSessionsEnd(TestDatabase db, long before) throws Exception {
        // Sessions report their counters when they end (the pools above are closed by now), and
        // running ones at most once a second: wait that long.
        Thread.sleep(1_200);
        return commits(db) - before;
    }

    @FunctionalInterface
    interface Condition {
        boolean met() throws Exception;
    }

    static void awaitDone(Condition condition) throws Exception {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (!condition.met()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not done within " + LIMIT);
            }
            Thread.sleep(1);
        }
    }

    static String password(TestDatabase db) {
        return db.password().isEmpty() ? null : db.password();
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
