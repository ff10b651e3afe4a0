package dev.pgpubsub.bench;

import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.testing.MemorySampler;
import java.time.Duration;
import java.util.stream.Collectors;

/**
 * Start-up recovery in a JVM of its own (run with a small heap): drains the backlog, then prints one
 * line, {@code RESULT heapAfterGc=... jdkDirect=... nettyDirect=... rss=... seconds=... drainSeconds=... samples=ms:bytes,...}.
 * Arguments: JDBC URL, user, password (or "-"), backlog size.
 */
public final class RecoveryChild {

    private RecoveryChild() {
    }

    public static void main(String[] args) throws Exception {
        MemorySampler memory = MemorySampler.start();
        long backlog = Long.parseLong(args[3]);
        long start = System.nanoTime();
        try (Listener listener = Listener.builder().jdbcUrl(args[0]).user(args[1]).password(args[2].equals("-") ? null : args[2])
                .pollInterval(Duration.ofMinutes(10)).on(Scenarios.BENCH, (task, context) -> { }).start()) {
            // start() returns once the pool is up and LISTEN is in place; the drain runs from there.
            long started = System.nanoTime();
            Scenarios.awaitDone(() -> !listener.stats().recovering());
            long end = System.nanoTime();
            long seconds = end - start;
            long drainSeconds = end - started;
            if (listener.stats().recoveredTasks() != backlog) {
                throw new IllegalStateException("recovered " + listener.stats().recoveredTasks() + " of " + backlog);
            }
            String samples = memory.heapSamples().stream().map(s -> s[0] + ":" + s[1]).collect(Collectors.joining(","));
            System.out.println("RESULT " + memory.report() + " seconds=" + Scenarios.seconds(seconds)
                    + " drainSeconds=" + Scenarios.seconds(drainSeconds) + " samples=" + samples);
        }
    }
}
