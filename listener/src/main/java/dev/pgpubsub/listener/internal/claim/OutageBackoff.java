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
 * When claiming fails (the database is down, a lock is held, a connection froze): each channel is
 * tried again after a jittered backoff that grows with its streak of failures, and once claims
 * have failed for longer than the outage limit without a success in between, the listener gives up.
 */
final class OutageBackoff {

    private static final Logger LOG = LoggerFactory.getLogger(OutageBackoff.class);

    private final Duration limit;
    private final Consumer<Throwable> giveUp;
    private final Map<String, Integer> streaks = new ConcurrentHashMap<>();
    private final AtomicLong failingSince = new AtomicLong();
    private final AtomicBoolean gaveUp = new AtomicBoolean();

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
     * @return milliseconds to wait before the channel's next turn, or -1 once the listener gave up
     */
    long failed(String channel, Throwable e) {
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
        int streak = streaks.merge(channel, 1, Integer::sum);
        long delay = Backoff.DATABASE.millis(streak);
        LOG.warn("Claiming on channel '{}' failed ({} in a row); trying again in {} ms: {}", channel, streak, delay,
                e.toString());
        LOG.debug("Claim failure", e);
        return delay;
    }
}
