package dev.pgpubsub.listener.micrometer;

import dev.pgpubsub.core.PublishObserver;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.ListenerStats;
import dev.pgpubsub.listener.RecoveryProgress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * pgpubsub's metrics in a Micrometer {@link MeterRegistry}: a {@link ListenerObserver} for listeners
 * and a {@link PublishObserver} for publishers. Create one per registry and hand it to both:
 *
 * <pre>{@code
 * PgPubSubMetrics metrics = PgPubSubMetrics.of(registry);
 * Publisher publisher = Publisher.builder().observer(metrics).build();
 * Listener listener = Listener.builder()...observer(metrics).build();
 * }</pre>
 *
 * <p>Meters are named {@code pgpubsub.*} and tagged {@code channel} (see {@code docs/operations.md}
 * for the list). The channel tag takes at most {@link Options#maxChannelTags()} values, the first
 * channels seen; the others are counted together under {@value #OTHER}. Per-task work is a map
 * look-up and Micrometer's own counting: nothing is allocated.
 *
 * <p>The per-listener gauges (live workers, abandoned threads, LISTEN connected, recovering) add up
 * the listeners this object observes. The queue gauges are measured by every listener, each for the
 * channels it serves: aggregate them across instances with {@code max()}, never {@code sum()}.
 */
public final class PgPubSubMetrics implements ListenerObserver, PublishObserver {

    /** The channel tag of the channels past {@link Options#maxChannelTags()} (a channel of that name shares it). */
    public static final String OTHER = "_other";

    /**
     * What to measure and how.
     *
     * @param maxChannelTags       the most distinct values of the channel tag; the rest are {@value #OTHER}
     * @param percentileHistograms whether the timers and the batch size publish percentile histograms
     *                             (buckets: more time series, for quantiles across instances)
     * @param queueDepthInterval   how often each listener measures its channels' queues; null or zero for never
     * @param queueDepthCap        the most due tasks counted per channel in one measurement
     * @param tags                 tags added to every meter (e.g. the application)
     */
    public record Options(int maxChannelTags, boolean percentileHistograms, Duration queueDepthInterval,
            int queueDepthCap, Tags tags) {

        /** Channel tag values by default. */
        public static final int DEFAULT_MAX_CHANNEL_TAGS = 100;
        /** How often the queues are measured by default. */
        public static final Duration DEFAULT_QUEUE_DEPTH_INTERVAL = Duration.ofSeconds(30);
        /** The most due tasks counted per channel by default. */
        public static final int DEFAULT_QUEUE_DEPTH_CAP = 10_000;

        /**
         * Checks the options.
         *
         * @param maxChannelTags       channels with a {@code channel} tag value of their own, at least 1
         * @param percentileHistograms whether the timers publish percentile histograms
         * @param queueDepthInterval   how often the queues are measured; null or zero for never
         * @param queueDepthCap        the most due tasks counted per channel, at least 1
         * @param tags                 tags added to every meter
         * @throws IllegalArgumentException when a number is less than 1, or the interval is negative
         */
        public Options {
            if (maxChannelTags < 1) {
                throw new IllegalArgumentException("maxChannelTags is " + maxChannelTags + "; it must be at least 1");
            }
            if (queueDepthCap < 1) {
                throw new IllegalArgumentException("queueDepthCap is " + queueDepthCap + "; it must be at least 1");
            }
            if (queueDepthInterval != null && queueDepthInterval.isNegative()) {
                throw new IllegalArgumentException("queueDepthInterval is " + queueDepthInterval
                        + "; give a positive duration, or zero for never");
            }
            tags = tags == null ? Tags.empty() : tags;
        }

        /**
         * The defaults: 100 channel tags, no percentile histograms, queues measured every 30 s up to
         * 10 000 due tasks per channel, no extra tags.
         *
         * @return the defaults
         */
        public static Options defaults() {
            return new Options(DEFAULT_MAX_CHANNEL_TAGS, false, DEFAULT_QUEUE_DEPTH_INTERVAL, DEFAULT_QUEUE_DEPTH_CAP,
                    Tags.empty());
        }

        /**
         * These options with another cap on the channel tag's values.
         *
         * @param max at least 1
         * @return new options
         */
        public Options withMaxChannelTags(int max) {
            return new Options(max, percentileHistograms, queueDepthInterval, queueDepthCap, tags);
        }

        /**
         * These options with percentile histograms on or off.
         *
         * @param on whether to publish them
         * @return new options
         */
        public Options withPercentileHistograms(boolean on) {
            return new Options(maxChannelTags, on, queueDepthInterval, queueDepthCap, tags);
        }

        /**
         * These options with another queue measurement interval.
         *
         * @param interval how often; null or zero for never
         * @return new options
         */
        public Options withQueueDepthInterval(Duration interval) {
            return new Options(maxChannelTags, percentileHistograms, interval, queueDepthCap, tags);
        }

        /**
         * These options with another cap on the due tasks counted per channel.
         *
         * @param cap at least 1
         * @return new options
         */
        public Options withQueueDepthCap(int cap) {
            return new Options(maxChannelTags, percentileHistograms, queueDepthInterval, cap, tags);
        }

        /**
         * These options with tags added to every meter.
         *
         * @param extra the tags
         * @return new options
         */
        public Options withTags(Iterable<Tag> extra) {
            return new Options(maxChannelTags, percentileHistograms, queueDepthInterval, queueDepthCap, tags.and(extra));
        }
    }

    private final MeterRegistry registry;
    private final Options options;
    private final Map<String, ChannelMeters> byChannel = new ConcurrentHashMap<>();
    /** Channels past the cap, remembered (up to a bound) so that their calls take no lock. */
    private final java.util.concurrent.ConcurrentHashMap<String, Boolean> overflow =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_REMEMBERED_OVERFLOW = 10_000;
    private volatile ChannelMeters other;
    private final Set<Listener> listeners = new CopyOnWriteArraySet<>();
    private final AtomicBoolean listenerMeters = new AtomicBoolean();
    private volatile Counter reconnects;
    private final AtomicLong recoveryRemaining = new AtomicLong();

    private PgPubSubMetrics(MeterRegistry registry, Options options) {
        if (registry == null) {
            throw new IllegalArgumentException("The MeterRegistry is null");
        }
        if (options == null) {
            throw new IllegalArgumentException("The options are null; use Options.defaults()");
        }
        this.registry = registry;
        this.options = options;
    }

    /**
     * Metrics in {@code registry} with the {@linkplain Options#defaults() default options}.
     *
     * @param registry where the meters go
     * @return the observer, for publishers and listeners
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public static PgPubSubMetrics of(MeterRegistry registry) {
        return new PgPubSubMetrics(registry, Options.defaults());
    }

    /**
     * Metrics in {@code registry}.
     *
     * @param registry where the meters go
     * @param options  what to measure and how
     * @return the observer, for publishers and listeners
     * @throws IllegalArgumentException when an argument is null
     */
    public static PgPubSubMetrics of(MeterRegistry registry, Options options) {
        return new PgPubSubMetrics(registry, options);
    }

    /**
     * The options in force.
     *
     * @return the options
     */
    public Options options() {
        return options;
    }

    // ---- publisher

    /** {@inheritDoc} */
    @Override
    public void published(String channel, int tasks) {
        meters(channel).published.increment(tasks);
    }

    // ---- listener

    /** {@inheritDoc} */
    @Override
    public void attached(Listener listener) {
        listeners.add(listener);
        if (listenerMeters.compareAndSet(false, true)) {
            registerListenerMeters();
        }
    }

    /** {@inheritDoc} */
    @Override
    public void detached(Listener listener) {
        listeners.remove(listener);
    }

    /** {@inheritDoc} */
    @Override
    public void claimed(String channel, int tasks) {
        ChannelMeters m = meters(channel);
        m.claimed.increment(tasks);
        m.batchSize.record(tasks);
    }

    /** {@inheritDoc} */
    @Override
    public void handlerStarting(String channel, long lagNanos) {
        meters(channel).lag.record(lagNanos, TimeUnit.NANOSECONDS);
    }

    /** {@inheritDoc} */
    @Override
    public void handlerReturned(String channel, boolean succeeded, long nanos) {
        ChannelMeters m = meters(channel);
        (succeeded ? m.handlerSuccess : m.handlerFailure).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** {@inheritDoc} */
    @Override
    public void handlerTimedOut(String channel, long nanos) {
        meters(channel).handlerTimeout.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** {@inheritDoc} */
    @Override
    public void failed(String channel) {
        meters(channel).failed.increment();
    }

    /** {@inheritDoc} */
    @Override
    public void committed(String channel, int succeeded, int retried, int deadLettered) {
        ChannelMeters m = meters(channel);
        if (succeeded > 0) {
            m.succeeded.increment(succeeded);
        }
        if (retried > 0) {
            m.retried.increment(retried);
        }
        if (deadLettered > 0) {
            m.deadLettered.increment(deadLettered);
        }
    }

    /** {@inheritDoc} */
    @Override
    public void recovered(String channel, long tasks) {
        meters(channel).recovered.increment(tasks);
    }

    /** {@inheritDoc} */
    @Override
    public void recoveryProgress(RecoveryProgress progress) {
        recoveryRemaining.set(progress.finished() ? 0 : Math.max(0, progress.estimatedRows() - progress.rowsRead()));
    }

    /** {@inheritDoc} */
    @Override
    public void reconnected() {
        Counter c = reconnects;
        if (c != null) {
            c.increment();
        }
    }

    /** {@inheritDoc} */
    @Override
    public Duration queueDepthInterval() {
        Duration interval = options.queueDepthInterval();
        return interval == null || interval.isZero() ? null : interval;
    }

    /** {@inheritDoc} */
    @Override
    public int queueDepthCap() {
        return options.queueDepthCap();
    }

    /** {@inheritDoc} */
    @Override
    public void queueDepths(List<QueueDepth> depths) {
        long otherDue = 0;
        long otherOldest = 0;
        boolean anyOther = false;
        for (QueueDepth d : depths) {
            ChannelMeters m = meters(d.channel());
            if (m.tag.equals(OTHER)) {
                anyOther = true;
                otherDue += d.dueTasks();
                otherOldest = Math.max(otherOldest, d.oldestDueMillis());
            } else {
                m.depth().set(d.dueTasks(), d.oldestDueMillis());
            }
        }
        if (anyOther) {
            other().depth().set(otherDue, otherOldest);
        }
    }

    // ---- meters

    private void registerListenerMeters() {
        listenerGauge("pgpubsub.listener.workers.live", "Workers running now", "threads", ListenerStats::liveWorkers);
        listenerGauge("pgpubsub.listener.threads.abandoned", "Threads of timed-out handlers still running", "threads",
                ListenerStats::abandonedThreads);
        listenerGauge("pgpubsub.listener.listen.connected", "Listeners whose LISTEN connection is up (0 or 1 for one)",
                null, s -> s.listening() ? 1 : 0);
        listenerGauge("pgpubsub.recovery.active", "Listeners whose start-up recovery is running (0 or 1 for one)", null,
                s -> s.recovering() ? 1 : 0);
        Gauge.builder("pgpubsub.recovery.remaining", recoveryRemaining, AtomicLong::get)
                .description("Tasks start-up recovery estimates it has still to read (0 when it is done)")
                .baseUnit("tasks").tags(options.tags()).register(registry);
        reconnects = Counter.builder("pgpubsub.listener.reconnects")
                .description("Times the LISTEN connection was lost and restored").tags(options.tags()).register(registry);
    }

    private void listenerGauge(String name, String description, String unit, ToDoubleFunction<ListenerStats> value) {
        Gauge.builder(name, this, m -> m.sum(value)).description(description).baseUnit(unit).tags(options.tags())
                .strongReference(true).register(registry);
    }

    private double sum(ToDoubleFunction<ListenerStats> value) {
        double sum = 0;
        for (Listener l : listeners) {
            sum += value.applyAsDouble(l.stats());
        }
        return sum;
    }

    /** The meters of {@code channel}: its own, or {@value #OTHER}'s once the cap is reached. */
    private ChannelMeters meters(String channel) {
        ChannelMeters m = byChannel.get(channel);
        if (m != null) {
            return m;
        }
        if (overflow.containsKey(channel)) {
            return other(); // past the cap: no lock on every call
        }
        synchronized (byChannel) {
            m = byChannel.get(channel);
            if (m != null) {
                return m;
            }
            if (byChannel.size() >= options.maxChannelTags()) {
                if (overflow.size() < MAX_REMEMBERED_OVERFLOW) {
                    overflow.put(channel, Boolean.TRUE);
                }
                return other();
            }
            m = new ChannelMeters(channel);
            byChannel.put(channel, m);
            return m;
        }
    }

    private ChannelMeters other() {
        ChannelMeters o = other;
        if (o == null) {
            synchronized (byChannel) {
                o = other;
                if (o == null) {
                    o = new ChannelMeters(OTHER);
                    other = o;
                }
            }
        }
        return o;
    }

    /** One channel tag's meters. */
    private final class ChannelMeters {
        final String tag;
        final Counter published;
        final Counter claimed;
        final Counter succeeded;
        final Counter failed;
        final Counter retried;
        final Counter deadLettered;
        final Counter recovered;
        final Timer handlerSuccess;
        final Timer handlerFailure;
        final Timer handlerTimeout;
        final Timer lag;
        final DistributionSummary batchSize;
        private volatile Depth depth;

        ChannelMeters(String tag) {
            this.tag = tag;
            Tags tags = options.tags().and("channel", tag);
            published = counter("pgpubsub.tasks.published", "Tasks published (counted before their transaction commits)", tags);
            claimed = counter("pgpubsub.tasks.claimed", "Tasks claimed to run", tags);
            succeeded = counter("pgpubsub.tasks.succeeded", "Tasks whose handler succeeded and whose deletion committed", tags);
            failed = counter("pgpubsub.tasks.failed", "Task attempts that failed (threw, timed out, broke their transaction)",
                    tags);
            retried = counter("pgpubsub.tasks.retried", "Failed tasks charged an attempt and due again after their backoff",
                    tags);
            deadLettered = counter("pgpubsub.tasks.dead.lettered", "Tasks moved to the dead letters", tags);
            recovered = counter("pgpubsub.recovery.tasks", "Tasks completed by start-up recovery", tags);
            handlerSuccess = handlerTimer(tags, "success");
            handlerFailure = handlerTimer(tags, "failure");
            handlerTimeout = handlerTimer(tags, "timeout");
            lag = Timer.builder("pgpubsub.tasks.lag").description("From a task's due time to its handler's start")
                    .tags(tags).publishPercentileHistogram(options.percentileHistograms()).register(registry);
            batchSize = DistributionSummary.builder("pgpubsub.batch.size").description("Tasks claimed per claim transaction")
                    .baseUnit("tasks").tags(tags).publishPercentileHistogram(options.percentileHistograms())
                    .register(registry);
        }

        private Counter counter(String name, String description, Tags tags) {
            return Counter.builder(name).description(description).baseUnit("tasks").tags(tags).register(registry);
        }

        private Timer handlerTimer(Tags tags, String outcome) {
            return Timer.builder("pgpubsub.handler.duration").description("Handler calls, by outcome")
                    .tags(tags).tag("outcome", outcome).publishPercentileHistogram(options.percentileHistograms())
                    .register(registry);
        }

        /** The queue gauges, registered at the first measurement. */
        Depth depth() {
            Depth d = depth;
            if (d == null) {
                synchronized (this) {
                    d = depth;
                    if (d == null) {
                        d = new Depth(options.tags().and("channel", tag));
                        depth = d;
                    }
                }
            }
            return d;
        }
    }

    /** A channel tag's last queue measurement, and its gauges. */
    private final class Depth {
        private volatile long due;
        private volatile long oldestMillis;

        Depth(Tags tags) {
            Gauge.builder("pgpubsub.queue.depth", this, d -> d.due)
                    .description("Due tasks, counted up to a cap; every listener reports it: aggregate with max()")
                    .baseUnit("tasks").tags(tags).strongReference(true).register(registry);
            TimeGauge.builder("pgpubsub.queue.oldest.age", this, TimeUnit.MILLISECONDS, d -> d.oldestMillis)
                    .description("How long ago the earliest due task became due; aggregate with max()")
                    .tags(tags).strongReference(true).register(registry);
        }

        void set(long dueTasks, long oldest) {
            due = dueTasks;
            oldestMillis = oldest;
        }
    }
}
