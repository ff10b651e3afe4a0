package dev.pgpubsub.listener;

import java.time.Duration;

/**
 * How a channel's failed tasks are retried: after failed attempt {@code n} the task is due again in
 * {@code min(initialDelay * 2^(n - 1), maxDelay)}, shortened at random by up to {@code jitter} of
 * itself so that tasks that failed together do not all come back together; after
 * {@code maxAttempts} attempts it moves to the dead letters ({@code dev.pgpubsub.core.DeadLetters}).
 * An attempt whose claim died with its process (a JVM killed mid-handler) counts too, so a task that
 * kills its listener ends in dead letters instead of looping.
 *
 * @param maxAttempts  attempts in all, the first included (1 = never retried)
 * @param initialDelay the delay after the first failure
 * @param maxDelay     the longest delay
 * @param jitter       0 (none) to 1: the share of each delay that may be cut at random
 */
public record RetryPolicy(int maxAttempts, Duration initialDelay, Duration maxDelay, double jitter) {

    /** 25 attempts, 1 s doubling up to 1 h, 20 % jitter: about 15 hours of retries in all. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(25, Duration.ofSeconds(1), Duration.ofHours(1), 0.2);

    /**
     * Checks every value; a wrong one is refused with what to give instead.
     *
     * @param maxAttempts  attempts in all, the first included: 1 (never retried) to 1,000,000
     * @param initialDelay the delay after the first failure; positive
     * @param maxDelay     the longest delay; at least {@code initialDelay}
     * @param jitter       0 (none) to 1: the share of each delay that may be cut at random
     * @throws IllegalArgumentException when a value is out of its range or null
     */
    public RetryPolicy {
        if (maxAttempts < 1 || maxAttempts > 1_000_000) {
            throw new IllegalArgumentException("maxAttempts is " + maxAttempts + "; give 1 (never retry) to 1000000");
        }
        if (initialDelay == null || initialDelay.isNegative() || initialDelay.isZero()) {
            throw new IllegalArgumentException("initialDelay is " + initialDelay + "; give a positive duration, e.g. 1 s");
        }
        if (maxDelay == null || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("maxDelay is " + maxDelay + ", shorter than initialDelay (" + initialDelay
                    + "); make it at least initialDelay");
        }
        if (!(jitter >= 0 && jitter <= 1)) {
            throw new IllegalArgumentException("jitter is " + jitter + "; give a share between 0 (none) and 1");
        }
    }

    /**
     * This policy with another number of attempts.
     *
     * @param attempts attempts in all, the first included: 1 (never retried) to 1,000,000
     * @return a new policy; this one is unchanged
     * @throws IllegalArgumentException when {@code attempts} is out of range
     */
    public RetryPolicy withMaxAttempts(int attempts) {
        return new RetryPolicy(attempts, initialDelay, maxDelay, jitter);
    }

    /**
     * This policy with other delays.
     *
     * @param initial the delay after the first failure; positive
     * @param max     the longest delay; at least {@code initial}
     * @return a new policy; this one is unchanged
     * @throws IllegalArgumentException when a delay is null or not positive, or {@code max} is shorter
     *                                  than {@code initial}
     */
    public RetryPolicy withDelays(Duration initial, Duration max) {
        return new RetryPolicy(maxAttempts, initial, max, jitter);
    }

    /**
     * This policy with another jitter.
     *
     * @param share 0 (none) to 1: the share of each delay that may be cut at random
     * @return a new policy; this one is unchanged
     * @throws IllegalArgumentException when {@code share} is not between 0 and 1
     */
    public RetryPolicy withJitter(double share) {
        return new RetryPolicy(maxAttempts, initialDelay, maxDelay, share);
    }
}
