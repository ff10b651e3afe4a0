package dev.pgpubsub.listener;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;

/** What the listener tests share: a channel, a side table the handlers write to, and queries. */
final class Fixtures {

    record Order(long n) {
    }

    record Invoice(long n) {
    }

    static final Channel<Order> ORDERS = Channel.of("orders", Order.class);
    static final Channel<Invoice> INVOICES = Channel.of("invoices", Invoice.class);
    static final Duration AWAIT = Duration.ofSeconds(60);

    private Fixtures() {
    }

    /** Installs pgpubsub and an empty side table {@code handled} without a unique key. */
    static void reset(TestDatabase db) throws SQLException {
        PgPubSub.migrate(db.dataSource());
        execute(db, "DELETE FROM pgpubsub.notification");
        execute(db, "DROP TABLE IF EXISTS handled");
        // No unique key on purpose: a duplicate must show up as a second row, not as a silent retry.
        execute(db, "CREATE TABLE handled (task_id bigint NOT NULL, n bigint NOT NULL, attempt int NOT NULL, by text)");
    }

    /** The handler's effect: one row in {@code handled}, written in the claiming transaction. */
    static void recordHandled(TaskContext context, long n, String by) throws SQLException {
        try (PreparedStatement ps = context.connection().prepareStatement(
                "INSERT INTO handled (task_id, n, attempt, by) VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, context.id());
            ps.setLong(2, n);
            ps.setInt(3, context.attempt());
            ps.setString(4, by);
            ps.executeUpdate();
        }
    }

    static long[] publishOrders(TestDatabase db, long from, long to) {
        List<Order> orders = LongStream.range(from, to).mapToObj(Order::new).toList();
        return Publisher.create().inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(ORDERS, orders));
    }

    static ListenerBuilder listenerFor(TestDatabase db) {
        return Listener.builder().jdbcUrl(db.jdbcUrl()).user(db.user()).password(db.password().isEmpty() ? null : db.password());
    }

    static long count(TestDatabase db, String sql) throws SQLException {
        return db.number(sql);
    }

    static List<String> strings(TestDatabase db, String sql) throws SQLException {
        return db.strings(sql);
    }

    static void execute(TestDatabase db, String sql) throws SQLException {
        db.execute(sql);
    }

    /** How long a close took, and what the threads were doing if it took long. */
    record TimedClose(Duration took, String dump) {
        /** For an assertion's description: the dump, when one was taken. */
        String describe() {
            return dump.isEmpty() ? "close took " + took : "close took " + took + "; threads while it ran:\n" + dump;
        }
    }

    /**
     * Closes {@code listener}, timing it; if it is still closing after {@code dumpAfter}, the
     * library's and the pool's threads are dumped (briefly) so that a failure says where it waited.
     */
    static TimedClose timeClose(Listener listener, Duration dumpAfter) throws InterruptedException {
        CountDownLatch closed = new CountDownLatch(1);
        AtomicReference<String> dump = new AtomicReference<>("");
        Thread watcher = new Thread(() -> {
            try {
                if (!closed.await(dumpAfter.toMillis(), TimeUnit.MILLISECONDS)) {
                    StringBuilder sb = new StringBuilder();
                    Thread.getAllStackTraces().forEach((t, frames) -> {
                        String n = t.getName();
                        if (n.startsWith("pgpubsub") || n.contains("Hikari") || n.equals("main")) {
                            sb.append(n).append(' ').append(t.getState()).append('\n');
                            for (int i = 0; i < Math.min(12, frames.length); i++) {
                                sb.append("    at ").append(frames[i]).append('\n');
                            }
                        }
                    });
                    dump.set(sb.toString());
                }
            } catch (InterruptedException ignored) {
                // the close ended
            }
        }, "close-watcher");
        watcher.setDaemon(true);
        watcher.start();
        long start = System.nanoTime();
        try {
            listener.close();
        } finally {
            closed.countDown();
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        watcher.join(5_000);
        return new TimedClose(took, dump.get());
    }
}
