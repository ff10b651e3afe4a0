package dev.pgpubsub.listener.internal.claim;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Wakes a channel when its next not-yet-due row becomes due (a delayed publish, a retry), with no
 * NOTIFY needed. At most one timer per channel: the earliest.
 */
final class DueTimer {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DueTimer.class);

    private final ScheduledExecutorService scheduler;
    private final WakeQueue queue;
    private final Map<String, Slot> slots;

    DueTimer(ScheduledExecutorService scheduler, WakeQueue queue, Collection<String> channels) {
        this.scheduler = scheduler;
        this.queue = queue;
        this.slots = channels.stream().collect(Collectors.toUnmodifiableMap(c -> c, c -> new Slot()));
    }

    /** Wakes {@code channel} in {@code delayMillis}, unless a timer already fires as early. */
    void wakeIn(String channel, long delayMillis) {
        Slot slot = slots.get(channel);
        long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis);
        synchronized (slot) {
            if (slot.timer != null && !slot.timer.isDone() && slot.at - at <= 0) {
                LOG.debug("wake '{}' in {} ms: an earlier timer is set", channel, delayMillis);
                return;
            }
            LOG.debug("wake '{}' in {} ms", channel, delayMillis);
            if (slot.timer != null) {
                slot.timer.cancel(false);
            }
            slot.at = at;
            try {
                slot.timer = scheduler.schedule(() -> {
                    LOG.debug("timer fired for '{}'", channel);
                    queue.wake(channel);
                }, delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException stopping) {
                slot.timer = null; // the listener is stopping: nothing is due to it any more
            }
        }
    }

    private static final class Slot {
        private ScheduledFuture<?> timer;
        private long at;
    }
}
