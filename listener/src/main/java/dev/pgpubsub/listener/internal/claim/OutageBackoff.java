package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.SqlStates;
import dev.pgpubsub.listener.internal.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When claiming fails (the database is down, a lock is held, a connection froze): each channel is
 * tried again after a jittered backoff that grows with its streak of failures, and once claims have
 * failed for longer than the outage limit without a success in between, the listener gives up.
 *
 * <p>A connection that was lost under a turn (SQLSTATE class 08, or 57P01/57P02: terminated) does
 * not add to the streak: the pool drops it and the next turn gets another, so it waits only the
 * first step. When every connection of the pool is terminated at once, each one costs its turn that
 * much, where one shared streak had made the eighth dead connection wait as if the database had been
 * down eight times in a row. At most {@link #MAX_LOST_IN_A_ROW} such turns in a row are spared; after
 * that (connections that keep dying), and for every other failure, including a failure to get a
 * connection at all, the streak grows.
 */
final class OutageBackoff {

    private static final Logger LOG = LoggerFactory.getLogger(OutageBackoff.class);

    /** Lost connections in a row on one channel that wait only the first step. */
    static final int MAX_LOST_IN_A_ROW = 32;

    private final Duration limit;
    private final Consumer<Throwable> giveUp;
    private final Map<String, Streak> streaks = new ConcurrentHashMap<>();
    private final AtomicLong failingSince = new AtomicLong();
    private final AtomicBoolean gaveUp = new AtomicBoolean();

    /** A channel's failures since its last success. */
    private static final class Streak {
        private int failures;
        private int lostConnections;
    }

    OutageBackoff(Duration limit, Consumer<Throwable> giveUp) {
        this.limit = limit;
        this.giveUp = giveUp;
    }

    /**
     * A turn on {@code channel} succeeded: the database answers, so an outage, if there was one, is
     * over; the channel's own streak ends (another channel's goes on). Reads only, unless there was one.
     */
    void succeeded(String channel) {
        if (failingSince.get() != 0 && failingSince.getAndSet(0) != 0) {
            LOG.info("Claiming works again");
        }
        if (!streaks.isEmpty()) {
            streaks.remove(channel);
        }
    }

    /**
     * A turn on {@code channel} failed with {@code e}.
     *
     * @param hadConnection whether the failed transaction got a connection (false: getting one failed)
     * @return milliseconds to wait before the channel's next turn, or -1 once the listener gave up
     */
    long failed(String channel, boolean hadConnection, Throwable e) {
        long now = System.nanoTime();
        failingSince.compareAndSet(0, now);
        long since = failingSince.get();
        if (since != 0 && now - since > limit.toNanos()) {
            if (gaveUp.compareAndSet(false, true)) {
                LOG.error("Claiming has failed for longer than {}; giving up: {}", limit, e.toString());
                LOG.debug("The last failure", e);
                giveUp.accept(e);
            }
            return -1;
        }
        Streak streak = streaks.computeIfAbsent(channel, c -> new Streak());
        int failures;
        boolean spared;
        synchronized (streak) {
            spared = hadConnection && lostConnection(e) && streak.lostConnections < MAX_LOST_IN_A_ROW;
            if (spared) {
                streak.lostConnections++;
            } else {
                streak.failures++;
            }
            failures = streak.failures;
        }
        long delay = Backoff.DATABASE.millis(Math.max(1, failures));
        if (spared) {
            LOG.warn("Claiming on channel '{}' lost its connection; trying again on another in {} ms: {}", channel, delay,
                    e.toString());
        } else {
            LOG.warn("Claiming on channel '{}' failed ({} in a row); trying again in {} ms: {}", channel, failures, delay,
                    e.toString());
        }
        LOG.debug("Claim failure", e);
        return delay;
    }

    /**
     * When claims began to fail with no success since (read from the monotonic clock, so to within a
     * clock adjustment), or null while they succeed.
     *
     * @return the start of the ongoing outage, or null
     */
    Instant outageSince() {
        long since = failingSince.get();
        return since == 0 ? null : Instant.now().minusNanos(System.nanoTime() - since);
    }

    /** Whether {@code e} says the connection itself is gone: class 08, or the session was terminated. */
    static boolean lostConnection(Throwable e) {
        String state = SqlStates.state(e);
        return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02"));
    }
}
