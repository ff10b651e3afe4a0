package dev.pgpubsub.listener.internal.claim;

import java.time.Duration;

/**
 * How one channel's tasks are run: its retries and its handler timeout.
 *
 * @param maxAttempts    attempts in all before a task moves to dead letters
 * @param backoff        the delays between attempts
 * @param handlerTimeout how long one handler call may run before its transaction is aborted
 */
public record ChannelPolicy(int maxAttempts, Backoff backoff, Duration handlerTimeout) {
}
