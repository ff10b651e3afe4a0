package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Three listeners (two in this JVM, one in another) share 30,000 tasks published from four threads,
 * while 1% of handler calls fail after writing. Every task's effect is committed exactly once.
 */
@PostgresTest
class ExactlyOnceTest {

    private static final int TASKS = 30_000;
    private static final int PUBLISHERS = 4;
    private static final double FAILURE_RATE = 0.01;

    @Test
    void threeListenersInTwoJvmsCommitEachTasksEffectExactlyOnce(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        AtomicLong callsHere = new AtomicLong();
        long failedHere;
        String childReport;
        try (ForkedJvm child = ForkedJvm.start(ListenerProcess.class, List.of("-Xmx128m"), db.jdbcUrl(), db.user(),
                db.password().isEmpty() ? "-" : db.password(), "child", Double.toString(FAILURE_RATE))) {
            assertThat(child.await(Duration.ofSeconds(60))).isEqualTo("READY");
            try (Listener a = inJvm(db, "a", callsHere); Listener b = inJvm(db, "b", callsHere)) {
                publishFromThreads(db);
                await().atMost(AWAIT.multipliedBy(3))
                        .until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
                failedHere = a.stats().tasksFailed() + b.stats().tasksFailed();
            }
            assertThat(child.stop(Duration.ofSeconds(60))).isZero();
            childReport = child.awaitStartingWith("CALLS", Duration.ofSeconds(10));
        }
        String[] words = childReport.split(" ");
        long calls = callsHere.get() + Long.parseLong(words[1]);
        long failed = failedHere + Long.parseLong(words[3]);

        // One committed effect per task: no duplicate, nothing lost.
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(TASKS);
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(TASKS);
        assertThat(count(db, "SELECT count(DISTINCT task_id) FROM handled")).isEqualTo(TASKS);
        // Every failure ran its handler once more; rolled-back batch neighbours may have run again too.
        assertThat(failed).isPositive();
        assertThat(calls).isGreaterThanOrEqualTo(TASKS + failed);
        // The work was shared, across both JVMs.
        assertThat(Fixtures.strings(db, "SELECT DISTINCT by FROM handled")).contains("child").hasSizeGreaterThanOrEqualTo(2);
    }

    private static Listener inJvm(TestDatabase db, String name, AtomicLong calls) {
        return listenerFor(db).retryBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .on(ORDERS, (Order order, TaskContext context) -> {
                    calls.incrementAndGet();
                    Fixtures.recordHandled(context, order.n(), name);
                    if (ThreadLocalRandom.current().nextDouble() < FAILURE_RATE) {
                        throw new IllegalStateException("random failure");
                    }
                }).start();
    }

    private static void publishFromThreads(TestDatabase db) throws Exception {
        Publisher publisher = Publisher.create();
        ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS);
        try {
            List<Future<?>> runs = new ArrayList<>();
            int perThread = TASKS / PUBLISHERS;
            for (int t = 0; t < PUBLISHERS; t++) {
                long first = (long) t * perThread;
                runs.add(pool.submit(() -> {
                    // Alternate single publishes and batches, 50 tasks per transaction.
                    for (long start = first; start < first + perThread; start += 50) {
                        long from = start;
                        List<Order> orders = LongStream.range(from, from + 50).mapToObj(Order::new).toList();
                        publisher.inNewTransaction(db.dataSource(), (tx, c) -> {
                            if (from % 100 == 0) {
                                orders.forEach(o -> tx.publish(ORDERS, o));
                                return null;
                            }
                            return tx.publishAll(ORDERS, orders);
                        });
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
