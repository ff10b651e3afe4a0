package dev.pgpubsub.listener.internal.claim;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Channels that may have due work, each queued at most once, so that the queue never grows past the
 * number of channels. After two turns in a row that found nothing, a channel cools down: wake-ups in
 * that time are folded into one turn at its end, so that a storm of notifications becomes a handful
 * of claim turns. The cooldown doubles with each further empty turn, from 1 ms up to the maximum, and
 * a turn that finds work resets it: an empty turn now and then is normal in a live stream (a wake-up
 * that arrived while another worker was already claiming its task) and must cost it little latency. {@link #wake(String)} never blocks: pgjdbc-ng's I/O thread calls it.
 */
final class WakeQueue {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WakeQueue.class);

    /** Tells a worker to stop; not a valid channel name. */
    static final String STOP = "";

    private final Map<String, State> states;
    private final BlockingQueue<String> ready;
    private final ScheduledExecutorService scheduler;
    private final long cooldownNanos;

    private static final class State {
        private final AtomicBoolean queued = new AtomicBoolean();
        private final AtomicInteger emptyTurns = new AtomicInteger();
        private volatile long coolUntil = System.nanoTime();
    }

    /** A queue for a fixed set of channels and workers. */
    WakeQueue(Collection<String> channels, int workers, ScheduledExecutorService scheduler, long cooldownMillis) {
        this.states = channels.stream().collect(Collectors.toUnmodifiableMap(c -> c, c -> new State()));
        this.ready = new ArrayBlockingQueue<>(channels.size() + workers);
        this.scheduler = scheduler;
        this.cooldownNanos = TimeUnit.MILLISECONDS.toNanos(cooldownMillis);
    }

    /** Marks {@code channel} as having work; a no-op if it is already queued or not served. */
    void wake(String channel) {
        State state = states.get(channel);
        if (state == null || !state.queued.compareAndSet(false, true)) {
            return;
        }
        long wait = state.coolUntil - System.nanoTime();
        LOG.debug("queue '{}' (cooling for {} ns)", channel, wait);
        if (wait <= 0) {
            // Cannot fail: each channel holds at most one place, and the capacity covers them all.
            ready.offer(channel);
            return;
        }
        try {
            scheduler.schedule(() -> ready.offer(channel), wait, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            state.queued.set(false);
        }
    }

    /** Called after a turn on {@code channel} found no due row. */
    void foundNothing(String channel) {
        State state = states.get(channel);
        int empty = state.emptyTurns.incrementAndGet();
        if (empty >= 2) {
            long cooldown = Math.min(cooldownNanos, TimeUnit.MILLISECONDS.toNanos(1) << Math.min(empty - 2, 20));
            state.coolUntil = System.nanoTime() + cooldown;
        }
    }

    /** Called after a turn on {@code channel} found work. */
    void foundWork(String channel) {
        states.get(channel).emptyTurns.set(0);
    }

    /** Wakes every channel (start-up, safety-net poll). */
    void wakeAll() {
        states.keySet().forEach(this::wake);
    }

    /**
     * The next channel with work, or null after {@code timeoutMillis}; {@link #STOP} when asked to stop.
     * The channel leaves the queue before its work is claimed, so a wake-up that arrives meanwhile
     * queues it again.
     */
    String take(long timeoutMillis) throws InterruptedException {
        String channel = ready.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (channel != null && !channel.equals(STOP)) {
            states.get(channel).queued.set(false);
        }
        return channel;
    }

    /** Asks {@code workers} workers to stop once they are idle. */
    void stop(int workers) {
        for (int i = 0; i < workers; i++) {
            ready.offer(STOP);
        }
    }
}
