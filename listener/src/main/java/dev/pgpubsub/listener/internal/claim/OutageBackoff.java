package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.internal.Backoff;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When claiming fails (the database is down, a lock is held, a connection froze): the channel is
 * tried again after a jittered backoff that grows with the streak of failures on the same
 * connection, and once claims have failed for longer than the outage limit without a success in
 * between, the listener gives up.
 *
 * <p>Streaks are per connection, not per listener: when every connection of the pool is terminated
 * at once, each fails once, the pool replaces it, and the next turn, on a new connection, waits only
 * the first step. One shared streak made the eighth dead connection wait as if the database had
 * been down eight times in a row (seconds, with nothing wrong any more). Failing to get a connection
 * at all is a streak of its own, which grows through a real outage.
 */
final class OutageBackoff {

    private static final Logger LOG = LoggerFactory.getLogger(OutageBackoff.class);

    /** Streaks kept at most; a pool replaces the connections that failed, so old ones are noise. */
    static final int MAX_STREAKS = 1_024;

    private final Duration limit;
    private final Consumer<Throwable> giveUp;
    private final Map<Key, Integer> streaks = new ConcurrentHashMap<>();
    private final AtomicLong failingSince = new AtomicLong();
    private final AtomicBoolean gaveUp = new AtomicBoolean();

    /** A channel on one connection; session 0 when no connection could be had. */
    private record Key(String channel, int session) {
    }

    OutageBackoff(Duration limit, Consumer<Throwable> giveUp) {
        this.limit = limit;
        this.giveUp = giveUp;
    }

    /**
     * A turn on {@code channel} succeeded: the database answers, so an outage, if there was one, is
     * over, and the channel's streaks end (another channel's go on). Reads only, unless there was one.
     */
    void succeeded(String channel) {
        if (failingSince.get() != 0 && failingSince.getAndSet(0) != 0) {
            LOG.info("Claiming works again");
        }
        if (!streaks.isEmpty()) {
            streaks.keySet().removeIf(k -> k.channel().equals(channel));
        }
    }

    /**
     * A turn on {@code channel} failed with {@code e}.
     *
     * @param session the failed transaction's connection ({@link WorkerSlot#session()}), 0 if none was had
     * @return milliseconds to wait before the channel's next turn, or -1 once the listener gave up
     */
    long failed(String channel, int session, Throwable e) {
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
        if (streaks.size() >= MAX_STREAKS) {
            streaks.clear();
        }
        int streak = streaks.merge(new Key(channel, session), 1, Integer::sum);
        long delay = Backoff.DATABASE.millis(streak);
        LOG.warn("Claiming on channel '{}' failed ({} in a row {}); trying again in {} ms: {}", channel, streak,
                session == 0 ? "without a connection" : "on this connection", delay, e.toString());
        LOG.debug("Claim failure", e);
        return delay;
    }
}
