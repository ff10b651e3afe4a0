package dev.pgpubsub.listener.internal.claim;

import java.time.Duration;

/**
 * How one channel's tasks are run: its retries and its handler timeout.
 *
 * @param maxAttempts    attempts in all before a task moves to dead letters
 * @param initialDelay   the retry delay after the first failed attempt; it doubles per attempt
 * @param maxDelay       the longest retry delay
 * @param jitter         0 to 1: the share of a delay that may be cut at random
 * @param handlerTimeout how long one handler call may run before its transaction is aborted
 */
public record ChannelPolicy(int maxAttempts, Duration initialDelay, Duration maxDelay, double jitter,
        Duration handlerTimeout) {
}
