package dev.pgpubsub.listener.internal.claim;

import java.time.Duration;

/**
 * When a failed attempt is retried: {@code initial * 2^(attempt - 1)}, at most {@code max}, cut at
 * random by up to {@code jitter} of itself. The database computes it (from its own clock), so that
 * every listener agrees.
 *
 * @param initial the delay after the first failed attempt
 * @param max     the longest delay
 * @param jitter  0 to 1: the share of a delay that may be cut at random
 */
public record Backoff(Duration initial, Duration max, double jitter) {

    double initialSeconds() {
        return initial.toNanos() / 1e9;
    }

    double maxSeconds() {
        return max.toNanos() / 1e9;
    }

    /** The longest delay after failed attempt {@code attempt} (1-based): the one without jitter. */
    public Duration after(int attempt) {
        double seconds = Math.min(initialSeconds() * Math.pow(2, Math.min(attempt - 1, 30)), maxSeconds());
        return Duration.ofNanos((long) (seconds * 1e9));
    }
}
