package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.ORDERS;

import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.MemorySampler;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A listener in a JVM of its own, for the multi-process tests. Arguments: JDBC URL, user,
 * password (or "-"), name, failure rate (0..1), and optionally the maximum of attempts and the workers. It writes one {@code handled} row per task, fails
 * at random at the given rate after writing (so the write must roll back), says READY once started,
 * and on stdin's end closes and reports its memory maxima and its calls.
 */
public final class ListenerProcess {

    private ListenerProcess() {
    }

    public static void main(String[] args) throws IOException {
        String url = args[0];
        String user = args[1];
        String password = args[2].equals("-") ? null : args[2];
        String name = args[3];
        double failureRate = Double.parseDouble(args[4]);
        int maxAttempts = args.length > 5 ? Integer.parseInt(args[5]) : RetryPolicy.DEFAULT.maxAttempts();
        int workers = args.length > 6 ? Integer.parseInt(args[6]) : Listener.DEFAULT_WORKERS;
        AtomicLong calls = new AtomicLong();
        MemorySampler memory = MemorySampler.start();
        Listener listener = Listener.builder().jdbcUrl(url).user(user).password(password).workers(workers)
                .retryPolicy(new RetryPolicy(maxAttempts, Duration.ofMillis(50), Duration.ofMillis(200), 0.2))
                .on(ORDERS, (Order order, TaskContext context) -> {
                    calls.incrementAndGet();
                    Fixtures.recordHandled(context, order.n(), name);
                    if (ThreadLocalRandom.current().nextDouble() < failureRate) {
                        throw new IllegalStateException("random failure");
                    }
                })
                .build();
        listener.start();
        System.out.println(ForkedJvm.PREFIX + "READY");
        while (System.in.read() >= 0) {
            // Runs until the parent closes our stdin.
        }
        listener.close();
        ListenerStats stats = listener.stats();
        System.out.println(ForkedJvm.PREFIX + "MEMORY " + memory.report());
        System.out.println(ForkedJvm.PREFIX + "CALLS " + calls.get() + " FAILED " + stats.tasksFailed()
                + " RECOVERED " + stats.recoveredTasks());
    }
}
