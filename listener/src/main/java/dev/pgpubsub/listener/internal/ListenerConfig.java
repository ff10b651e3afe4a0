package dev.pgpubsub.listener.internal;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.listener.ClaimTransactions;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.RecoveryProgress;
import dev.pgpubsub.listener.RetryPolicy;
import dev.pgpubsub.listener.internal.claim.ChannelPolicy;
import dev.pgpubsub.listener.internal.claim.TaskTracing;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import dev.pgpubsub.listener.internal.schedule.ScheduleSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.sql.DataSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * A listener's settings, validated once and sealed: what {@code ListenerBuilder} collected, with
 * every cross-setting rule checked and every channel's policy resolved. Each error names the setting,
 * the value and the fix.
 */
public final class ListenerConfig {

    /** The settings as given, before validation: the builder's, mutable, unchecked across settings. */
    public static final class Values {
        /** See the builder's method of the same name. */
        public String jdbcUrl;
        /** See the builder's method of the same name. */
        public String user;
        /** See the builder's method of the same name. */
        public String password;
        /** See the builder's method of the same name. */
        public DataSource dataSource;
        /** See the builder's method of the same name. */
        public String schema = PgPubSub.DEFAULT_SCHEMA;
        /** See the builder's method of the same name. */
        public int workers = Listener.DEFAULT_WORKERS;
        /** See the builder's method of the same name. */
        public int batchSize = Listener.DEFAULT_BATCH_SIZE;
        /** See the builder's method of the same name. */
        public RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        /** Retry policies of single channels. */
        public final Map<String, RetryPolicy> channelRetryPolicies = new LinkedHashMap<>();
        /** See the builder's method of the same name. */
        public Duration handlerTimeout = Listener.DEFAULT_HANDLER_TIMEOUT;
        /** Handler timeouts of single channels. */
        public final Map<String, Duration> channelHandlerTimeouts = new LinkedHashMap<>();
        /** See the builder's method of the same name. */
        public Duration statementTimeout = Listener.DEFAULT_STATEMENT_TIMEOUT;
        /** See the builder's method of the same name. */
        public int maxPayloadBytes = Listener.DEFAULT_MAX_PAYLOAD_BYTES;
        /** See the builder's method of the same name. */
        public long maxBatchBytes = Listener.DEFAULT_MAX_BATCH_BYTES;
        /** See the builder's method of the same name; null for as many as workers. */
        public Integer maxAbandonedThreads;
        /** See the builder's method of the same name. */
        public Duration outageLimit = Listener.DEFAULT_OUTAGE_LIMIT;
        /** See the builder's method of the same name. */
        public Consumer<Throwable> onFailure = cause -> { };
        /** See the builder's method of the same name. */
        public Duration pollInterval = Listener.DEFAULT_POLL_INTERVAL;
        /** See the builder's method of the same name. */
        public Duration shutdownGrace = Listener.DEFAULT_SHUTDOWN_GRACE;
        /** See the builder's method of the same name; null for the library's. */
        public JsonMapper mapper;
        /** See the builder's method of the same name. */
        public boolean recoverOnStart = true;
        /** See the builder's method of the same name. */
        public int recoveryFetchSize = Listener.DEFAULT_RECOVERY_FETCH_SIZE;
        /** See the builder's method of the same name. */
        public Consumer<RecoveryProgress> recoveryProgress = progress -> { };
        /** See the builder's method of the same name; null for the listener's own. */
        public ClaimTransactions claimTransactions;
        /** See the builder's method {@code channels}; null for all. */
        public List<String> onlyChannels;
        /** See the builder's method of the same name. */
        public boolean pollOnly;
        /** See the builder's method of the same name. */
        public Duration listenPingInterval = Listener.DEFAULT_LISTEN_PING_INTERVAL;
        /** See the builder's method of the same name; zero for none. */
        public Duration heartbeatInterval = Listener.DEFAULT_HEARTBEAT_INTERVAL;
        /** See the builder's method of the same name. */
        public ListenerObserver observer = ListenerObserver.NONE;
        /** See the builder's method {@code observationRegistry}. */
        public TaskTracing tracing = TaskTracing.NONE;
        /** See the builder's method {@code schedule}. */
        public final Map<String, ScheduleSpec> schedules = new LinkedHashMap<>();
        /** The clock schedules' slots are computed with (tests change it). */
        public Clock clock = Clock.systemUTC();
        /** The handlers registered. */
        public final HandlerRegistry registry = new HandlerRegistry();
    }

    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final DataSource dataSource;
    private final String schema;
    private final int workers;
    private final int batchSize;
    private final Map<String, ChannelPolicy> policies;
    private final Duration statementTimeout;
    private final int maxPayloadBytes;
    private final long maxBatchBytes;
    private final int maxAbandonedThreads;
    private final Duration outageLimit;
    private final Consumer<Throwable> onFailure;
    private final Duration pollInterval;
    private final Duration shutdownGrace;
    private final JsonMapper mapper;
    private final boolean recoverOnStart;
    private final int recoveryFetchSize;
    private final Consumer<RecoveryProgress> recoveryProgress;
    private final ClaimTransactions claimTransactions;
    private final boolean pollOnly;
    private final Duration listenPingInterval;
    private final Duration heartbeatInterval;
    private final HandlerRegistry handlers;
    private final ListenerObserver observer;
    private final TaskTracing tracing;
    private final List<ScheduleSpec> schedules;
    private final Clock clock;

    private ListenerConfig(Values v, HandlerRegistry served, Map<String, ChannelPolicy> policies) {
        this.jdbcUrl = v.jdbcUrl;
        this.user = v.user;
        this.password = v.password;
        this.dataSource = v.dataSource;
        this.schema = v.schema;
        this.workers = v.workers;
        this.batchSize = v.batchSize;
        this.policies = Map.copyOf(policies);
        this.statementTimeout = v.statementTimeout;
        this.maxPayloadBytes = v.maxPayloadBytes;
        this.maxBatchBytes = v.maxBatchBytes;
        this.maxAbandonedThreads = v.maxAbandonedThreads == null ? v.workers : v.maxAbandonedThreads;
        this.outageLimit = v.outageLimit;
        this.onFailure = v.onFailure;
        this.pollInterval = v.pollInterval;
        this.shutdownGrace = v.shutdownGrace;
        this.mapper = v.mapper;
        this.recoverOnStart = v.recoverOnStart;
        this.recoveryFetchSize = v.recoveryFetchSize;
        this.recoveryProgress = v.recoveryProgress;
        this.claimTransactions = v.claimTransactions;
        this.pollOnly = v.pollOnly;
        this.listenPingInterval = v.listenPingInterval;
        this.heartbeatInterval = v.heartbeatInterval;
        this.handlers = served;
        this.observer = v.observer == ListenerObserver.NONE ? ListenerObserver.NONE : new GuardedObserver(v.observer);
        this.tracing = v.tracing;
        this.schedules = List.copyOf(v.schedules.values());
        this.clock = v.clock;
    }

    /**
     * Checks the settings together and seals them.
     *
     * @param v the settings as given
     * @return the sealed configuration
     * @throws IllegalArgumentException when a rule across settings is broken (the message says which and the fix)
     */
    public static ListenerConfig validate(Values v) {
        if (v.jdbcUrl == null && !(v.pollOnly && v.dataSource != null)) {
            throw new IllegalArgumentException("No JDBC URL: call jdbcUrl(\"jdbc:postgresql://host:5432/db\"); the LISTEN "
                    + "connection is built from it (only a poll-only listener with a dataSource needs none)");
        }
        if (v.registry.isEmpty()) {
            throw new IllegalArgumentException("No handlers: register some with handlers(beans...) or on(channel, handler)");
        }
        for (ScheduleSpec schedule : v.schedules.values()) {
            dev.pgpubsub.core.internal.Names.requireChannel(schedule.channel(), v.schema);
        }
        HandlerRegistry served = v.onlyChannels == null ? v.registry.copy() : v.registry.only(v.onlyChannels);
        served.validateFor(v.schema);
        for (String channel : v.channelRetryPolicies.keySet()) {
            requireServed(served, channel, "retryPolicy");
        }
        for (String channel : v.channelHandlerTimeouts.keySet()) {
            requireServed(served, channel, "handlerTimeout");
        }
        Map<String, ChannelPolicy> policies = new LinkedHashMap<>();
        for (RegisteredHandler handler : served.all()) {
            RetryPolicy retry = v.channelRetryPolicies.get(handler.channel());
            if (retry == null) {
                retry = handler.maxAttempts() > 0 ? v.retryPolicy.withMaxAttempts(handler.maxAttempts()) : v.retryPolicy;
            }
            Duration timeout = v.channelHandlerTimeouts.getOrDefault(handler.channel(),
                    handler.timeout() != null ? handler.timeout() : v.handlerTimeout);
            policies.put(handler.channel(), new ChannelPolicy(retry.maxAttempts(), retry.initialDelay(), retry.maxDelay(),
                    retry.jitter(), timeout));
        }
        return new ListenerConfig(v, served, policies);
    }

    private static void requireServed(HandlerRegistry served, String channel, String setting) {
        if (served.get(channel) == null) {
            throw new IllegalArgumentException(setting + " was given for channel '" + channel + "', which this listener "
                    + "does not serve; it serves " + served.all().stream().map(RegisteredHandler::channel).toList()
                    + ". Name one of those, or register its handler.");
        }
    }

    /** @return the JDBC URL; null for a poll-only listener on a given DataSource */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** @return the user, or null for the URL's */
    public String user() {
        return user;
    }

    /** @return the password, or null for the URL's */
    public String password() {
        return password;
    }

    /** @return the application's DataSource for workers, or null for the listener's own pool */
    public DataSource dataSource() {
        return dataSource;
    }

    /** @return the schema pgpubsub is installed in */
    public String schema() {
        return schema;
    }

    /** @return how many handlers run at once */
    public int workers() {
        return workers;
    }

    /** @return rows claimed per transaction */
    public int batchSize() {
        return batchSize;
    }

    /** @return each served channel's retries and handler timeout */
    public Map<String, ChannelPolicy> policies() {
        return policies;
    }

    /** @return the bound on each of the library's own statements */
    public Duration statementTimeout() {
        return statementTimeout;
    }

    /** @return larger payloads go to the dead letters unread */
    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    /** @return payload bytes one claim loads at most (but always its first row) */
    public long maxBatchBytes() {
        return maxBatchBytes;
    }

    /** @return overrunning handler threads allowed to be left behind */
    public int maxAbandonedThreads() {
        return maxAbandonedThreads;
    }

    /** @return how long the database may stay unusable before the listener gives up */
    public Duration outageLimit() {
        return outageLimit;
    }

    /** @return told when the listener stops by itself */
    public Consumer<Throwable> onFailure() {
        return onFailure;
    }

    /** @return the safety-net poll interval */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** @return how long a close lets running handlers finish */
    public Duration shutdownGrace() {
        return shutdownGrace;
    }

    /** @return the payloads' mapper, or null for the library's */
    public JsonMapper mapper() {
        return mapper;
    }

    /** @return whether start-up recovery runs */
    public boolean recoverOnStart() {
        return recoverOnStart;
    }

    /** @return rows start-up recovery reads per round trip */
    public int recoveryFetchSize() {
        return recoveryFetchSize;
    }

    /** @return where transactions come from; null for the listener's own, on its DataSource */
    public ClaimTransactions claimTransactions() {
        return claimTransactions;
    }

    /** @return receives start-up recovery's progress */
    public Consumer<RecoveryProgress> recoveryProgress() {
        return recoveryProgress;
    }

    /** @return whether the listener polls instead of LISTENing */
    public boolean pollOnly() {
        return pollOnly;
    }

    /** @return how often the LISTEN connection is checked */
    public Duration listenPingInterval() {
        return listenPingInterval;
    }

    /** @return how often the heartbeat row is written; zero for never */
    public Duration heartbeatInterval() {
        return heartbeatInterval;
    }

    /** @return whether handlers run in a trace; {@link TaskTracing#NONE} for none */
    public TaskTracing tracing() {
        return tracing;
    }

    /** @return told what the listener does, its failures caught; {@link ListenerObserver#NONE} for none */
    public ListenerObserver observer() {
        return observer;
    }

    /** @return the schedules whose slots this listener publishes */
    public List<ScheduleSpec> schedules() {
        return schedules;
    }

    /** @return the clock of the schedules' slots */
    public Clock clock() {
        return clock;
    }

    /** @return the handlers of the served channels */
    public HandlerRegistry handlers() {
        return handlers;
    }

    /** @return the served channels, in registration order */
    public List<String> channels() {
        return handlers.all().stream().map(RegisteredHandler::channel).toList();
    }

    /**
     * The effective settings in one line, for the start-up log; no secret is shown.
     *
     * @return e.g. {@code channels [orders], 4 workers, batches of 100, ...}
     */
    public String describe() {
        return "channels " + channels() + ", " + workers + " workers, batches of " + batchSize + " (at most "
                + maxBatchBytes + " payload bytes), schema '" + schema + "', statement timeout " + statementTimeout
                + ", outage limit " + outageLimit + (recoverOnStart ? ", recovering first" : "")
                + (pollOnly ? ", poll only (every " + pollInterval + ")" : "")
                + (heartbeatInterval.isZero() ? ", no heartbeat" : "")
                + (schedules.isEmpty() ? "" : ", schedules " + schedules.stream().map(s -> s.name() + " (" + s.definition()
                        + " -> " + s.channel() + ")").toList());
    }
}
