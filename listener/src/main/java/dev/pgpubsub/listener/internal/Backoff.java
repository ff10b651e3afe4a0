package dev.pgpubsub.listener.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before trying again after a streak of failures (a claim that failed, a LISTEN
 * connection that could not be restored): {@code first * 2^(streak - 1)}, at most {@code max}, then
 * a random half to all of it, so that many listeners that failed together do not retry together.
 *
 * <p>Retries of failed tasks are another matter: the database computes their delays
 * ({@code retry_delay} in the schema), so that every listener agrees.
 *
 * @param first the base delay after one failure
 * @param max   the longest base delay
 */
public record Backoff(Duration first, Duration max) {

    /** Claims and LISTEN reconnects: 100 ms doubling to 30 s. */
    public static final Backoff DATABASE = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30));

    /**
     * The delay after {@code streak} failures in a row.
     *
     * @param streak 1 for the first failure
     * @return the delay in milliseconds; 0 for a streak below 1
     */
    public long millis(int streak) {
        if (streak < 1) {
            return 0;
        }
        long base = Math.min(max.toMillis(), first.toMillis() << Math.min(streak - 1, 30));
        return (long) (base * (0.5 + ThreadLocalRandom.current().nextDouble() / 2));
    }
}
