package dev.pgpubsub.spring;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code pgpubsub.*} properties: the schema, its migration at start-up, the {@code Publisher},
 * the {@code Listener} and the listener's schedules (recurring tasks). Every listener setting of {@code ListenerBuilder} has a property here;
 * the defaults are the listener's own.
 */
@ConfigurationProperties("pgpubsub")
public class PgPubSubProperties {

    /**
     * Whether to create or upgrade the pgpubsub schema at start-up. pgpubsub's migrations keep their
     * own Flyway history table inside that schema and their own classpath location, so the
     * application's Flyway history is never touched.
     */
    private boolean migrate = true;

    /**
     * The schema pgpubsub is installed in, for the migration, the publisher and the listener: lower-case
     * letters, digits and underscores, at most 31 bytes.
     */
    private String schema = "pgpubsub";

    private final Publishing publisher = new Publishing();

    private final ListenerSettings listener = new ListenerSettings();

    /**
     * Recurring tasks the listener publishes, by schedule name ({@code pgpubsub.schedules.<name>.*}).
     * A name with '_' or '.' goes in brackets: {@code pgpubsub.schedules[orders_report].cron}.
     */
    private final Map<String, ScheduleSettings> schedules = new LinkedHashMap<>();

    private final Metrics metrics = new Metrics();
    private final Tracing tracing = new Tracing();

    /** Creates the properties with every default. */
    public PgPubSubProperties() {
    }

    /**
     * Whether the schema is migrated at start-up.
     *
     * @return true to migrate (the default)
     */
    public boolean isMigrate() {
        return migrate;
    }

    /**
     * Sets whether the schema is migrated at start-up.
     *
     * @param migrate false to leave the schema to another tool
     */
    public void setMigrate(boolean migrate) {
        this.migrate = migrate;
    }

    /**
     * The schema pgpubsub is installed in.
     *
     * @return the schema name
     */
    public String getSchema() {
        return schema;
    }

    /**
     * Sets the schema pgpubsub is installed in.
     *
     * @param schema the schema name
     */
    public void setSchema(String schema) {
        this.schema = schema;
    }

    /**
     * The publisher's settings ({@code pgpubsub.publisher.*}).
     *
     * @return the publisher's settings
     */
    public Publishing getPublisher() {
        return publisher;
    }

    /**
     * The listener's settings ({@code pgpubsub.listener.*}).
     *
     * @return the listener's settings
     */
    public ListenerSettings getListener() {
        return listener;
    }

    /**
     * The schedules of the properties ({@code pgpubsub.schedules.<name>.*}), by name.
     *
     * @return the schedules' settings, by name
     */
    public Map<String, ScheduleSettings> getSchedules() {
        return schedules;
    }

    /**
     * The metrics' settings.
     *
     * @return the {@code pgpubsub.metrics.*} settings
     */
    public Metrics getMetrics() {
        return metrics;
    }

    /**
     * The tracing settings.
     *
     * @return the {@code pgpubsub.tracing.*} settings
     */
    public Tracing getTracing() {
        return tracing;
    }

    /** The tracing settings, used when the application has a Micrometer {@code ObservationRegistry}. */
    public static class Tracing {

        /**
         * Whether publishing and handlers are observed in the application's ObservationRegistry: tasks
         * carry the publisher's trace context and handlers continue it.
         */
        private boolean enabled = true;

        /** Creates the settings with every default. */
        public Tracing() {
        }

        /**
         * Whether publishing and handlers are observed.
         *
         * @return true to observe them (the default, when there is an ObservationRegistry)
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether publishing and handlers are observed.
         *
         * @param enabled false to leave tasks without trace context and handlers outside any trace
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** The metrics' settings, used when the application has a Micrometer {@code MeterRegistry}. */
    public static class Metrics {

        /** Whether the publisher and the listener report their meters to the application's MeterRegistry. */
        private boolean enabled = true;

        /** How many channels get a tag value of their own; the rest are counted under "_other". */
        private int maxChannelTags = 100;

        /** Whether the handler-duration and lag timers publish percentile histograms. */
        private boolean percentileHistograms = false;

        /** How often the listener measures its channels' queue depth and oldest due task; 0 never. */
        private Duration queueDepthInterval = Duration.ofSeconds(30);

        /** Due rows counted per channel at most, when measuring the queue depth. */
        private int queueDepthCap = 10_000;

        /** Creates the settings with every default. */
        public Metrics() {
        }

        /**
         * Whether the meters are reported.
         *
         * @return true to report them (the default, when there is a MeterRegistry)
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the meters are reported.
         *
         * @param enabled false for none
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /**
         * How many channels get a tag value of their own.
         *
         * @return the cap
         */
        public int getMaxChannelTags() {
            return maxChannelTags;
        }

        /**
         * Sets how many channels get a tag value of their own.
         *
         * @param maxChannelTags the cap, at least 1
         */
        public void setMaxChannelTags(int maxChannelTags) {
            this.maxChannelTags = maxChannelTags;
        }

        /**
         * Whether the timers publish percentile histograms.
         *
         * @return true when they do
         */
        public boolean isPercentileHistograms() {
            return percentileHistograms;
        }

        /**
         * Sets whether the timers publish percentile histograms.
         *
         * @param percentileHistograms true for histograms
         */
        public void setPercentileHistograms(boolean percentileHistograms) {
            this.percentileHistograms = percentileHistograms;
        }

        /**
         * How often the queue depth is measured.
         *
         * @return the interval; zero for never
         */
        public Duration getQueueDepthInterval() {
            return queueDepthInterval;
        }

        /**
         * Sets how often the queue depth is measured.
         *
         * @param queueDepthInterval the interval; zero for never
         */
        public void setQueueDepthInterval(Duration queueDepthInterval) {
            this.queueDepthInterval = queueDepthInterval;
        }

        /**
         * Due rows counted per channel at most.
         *
         * @return the cap
         */
        public int getQueueDepthCap() {
            return queueDepthCap;
        }

        /**
         * Sets how many due rows are counted per channel at most.
         *
         * @param queueDepthCap the cap, at least 1
         */
        public void setQueueDepthCap(int queueDepthCap) {
            this.queueDepthCap = queueDepthCap;
        }
    }

    /** The {@code Publisher} bean's settings. */
    public static class Publishing {

        /** The largest payload the publisher accepts, in bytes of JSON text. */
        private int maxPayloadBytes = 1_048_576;

        /** Creates the settings with every default. */
        public Publishing() {
        }

        /**
         * The largest payload the publisher accepts.
         *
         * @return bytes of JSON text
         */
        public int getMaxPayloadBytes() {
            return maxPayloadBytes;
        }

        /**
         * Sets the largest payload the publisher accepts.
         *
         * @param maxPayloadBytes bytes of JSON text
         */
        public void setMaxPayloadBytes(int maxPayloadBytes) {
            this.maxPayloadBytes = maxPayloadBytes;
        }
    }

    /** The {@code Listener}'s settings: its LISTEN connection, workers, timeouts and retries. */
    public static class ListenerSettings {

        /**
         * Whether this node runs a listener for the application's @Listen beans. False for nodes that
         * only publish: no listener, no LISTEN connection, no worker connections.
         */
        private boolean enabled = true;

        /**
         * The JDBC URL of the LISTEN connection: a standard jdbc:postgresql: URL (converted for the
         * LISTEN connection's driver, TLS settings included) or a jdbc:pgsql: one. Default:
         * spring.datasource.url, else the jdbcUrl of the application's HikariDataSource.
         */
        private String jdbcUrl;

        /**
         * The user of the LISTEN connection. Default: spring.datasource.username (with
         * spring.datasource.url), else the HikariDataSource's.
         */
        private String username;

        /**
         * The password of the LISTEN connection. Default: spring.datasource.password (with
         * spring.datasource.url), else the HikariDataSource's.
         */
        private String password;

        /**
         * How many handlers run at once (1 to 1000). Each worker holds a connection of the
         * application's DataSource while it works, and the listener two more (three with schedules):
         * the pool must serve workers + 2 (+ 1) connections besides the application's own.
         */
        private int workers = 4;

        /** Tasks claimed and committed per transaction (1 to 10000). */
        private int batchSize = 100;

        /** The safety-net poll interval: every channel is checked for due tasks this often. */
        private Duration pollInterval = Duration.ofSeconds(10);

        /**
         * Poll only, without a LISTEN connection (for connections through PgBouncer in transaction
         * mode, where LISTEN does not work); set poll-interval short then, e.g. 1s.
         */
        private boolean pollOnly = false;

        /** How often the LISTEN connection is checked with a round trip. */
        private Duration listenPingInterval = Duration.ofSeconds(15);

        /**
         * How often the listener writes its heartbeat row (what the console's Listeners page and
         * throughput chart read), borrowing one connection for a moment: at least 1s, or 0 for none.
         */
        private Duration heartbeatInterval = Duration.ofSeconds(10);

        /**
         * How long one handler call may run before its transaction is aborted and the task retried,
         * for every channel without a timeout of its own.
         */
        private Duration handlerTimeout = Duration.ofMinutes(5);

        /** How long one of the listener's own statements (a claim, a commit) may take. */
        private Duration statementTimeout = Duration.ofSeconds(30);

        /**
         * How long the database may stay unusable before the listener stops by itself. At start-up,
         * the listener waits this long for a database that is down.
         */
        private Duration outageLimit = Duration.ofMinutes(15);

        /**
         * How long stopping lets running handlers finish before the rest are rolled back (and retried
         * later, not charged an attempt). Default: spring.lifecycle.timeout-per-shutdown-phase less
         * 5 seconds (half of it when it is 10 seconds or less), so that the listener has stopped
         * within Spring's shutdown timeout.
         */
        private Duration shutdownGrace;

        /** Payloads larger than this, in bytes of JSON text, go to the dead letters unread (at least 1024). */
        private int maxPayloadBytes = 8_388_608;

        /** Payload bytes of JSON text one claim loads at most (at least 1024); a claim always takes one task. */
        private long maxBatchBytes = 8_388_608L;

        /**
         * How many handler threads that overran their timeout may be left running before timed-out
         * workers are no longer replaced. Default: as many as workers.
         */
        private Integer maxAbandonedThreads;

        /** Whether start-up first drains the tasks already due, oldest first, in flat memory. */
        private boolean recoverOnStart = true;

        /**
         * Whether each batch of tasks runs in a Spring transaction of the application's transaction
         * manager (when there is one), which JdbcTemplate and @Transactional(REQUIRED) methods called
         * by a handler join. False runs the listener's own transactions on the DataSource.
         */
        private boolean springTransactions = true;

        /** Rows start-up recovery reads per round trip (1 to 100000). */
        private int recoveryFetchSize = 500;

        /**
         * Serve only these channels of the application's handlers (e.g. to split channels across
         * processes). Default: all.
         */
        private List<String> channels;

        private final Retry retry = new Retry();

        /** Settings of single channels, by channel name; they win over the handler's @Listen and the defaults. */
        private final Map<String, ChannelSettings> channel = new LinkedHashMap<>();

        /** Creates the settings with every default. */
        public ListenerSettings() {
        }

        /**
         * Whether the listener runs.
         *
         * @return false on nodes that only publish
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the listener runs.
         *
         * @param enabled false on nodes that only publish
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /**
         * The JDBC URL of the LISTEN connection.
         *
         * @return the URL, or null for the default
         */
        public String getJdbcUrl() {
            return jdbcUrl;
        }

        /**
         * Sets the JDBC URL of the LISTEN connection.
         *
         * @param jdbcUrl the URL, or null for the default
         */
        public void setJdbcUrl(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
        }

        /**
         * The user of the LISTEN connection.
         *
         * @return the user, or null for the default
         */
        public String getUsername() {
            return username;
        }

        /**
         * Sets the user of the LISTEN connection.
         *
         * @param username the user, or null for the default
         */
        public void setUsername(String username) {
            this.username = username;
        }

        /**
         * The password of the LISTEN connection.
         *
         * @return the password, or null for the default
         */
        public String getPassword() {
            return password;
        }

        /**
         * Sets the password of the LISTEN connection.
         *
         * @param password the password, or null for the default
         */
        public void setPassword(String password) {
            this.password = password;
        }

        /**
         * How many handlers run at once.
         *
         * @return the number of workers
         */
        public int getWorkers() {
            return workers;
        }

        /**
         * Sets how many handlers run at once.
         *
         * @param workers 1 to 1000
         */
        public void setWorkers(int workers) {
            this.workers = workers;
        }

        /**
         * Tasks claimed per transaction.
         *
         * @return the batch size
         */
        public int getBatchSize() {
            return batchSize;
        }

        /**
         * Sets the tasks claimed per transaction.
         *
         * @param batchSize 1 to 10000
         */
        public void setBatchSize(int batchSize) {
            this.batchSize = batchSize;
        }

        /**
         * The safety-net poll interval.
         *
         * @return the interval
         */
        public Duration getPollInterval() {
            return pollInterval;
        }

        /**
         * Sets the safety-net poll interval.
         *
         * @param pollInterval a positive duration
         */
        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        /**
         * Whether the listener polls instead of LISTENing.
         *
         * @return true to poll only
         */
        public boolean isPollOnly() {
            return pollOnly;
        }

        /**
         * Sets whether the listener polls instead of LISTENing.
         *
         * @param pollOnly true to poll only
         */
        public void setPollOnly(boolean pollOnly) {
            this.pollOnly = pollOnly;
        }

        /**
         * How often the LISTEN connection is checked.
         *
         * @return the interval
         */
        public Duration getListenPingInterval() {
            return listenPingInterval;
        }

        /**
         * Sets how often the LISTEN connection is checked.
         *
         * @param listenPingInterval a positive duration
         */
        public void setListenPingInterval(Duration listenPingInterval) {
            this.listenPingInterval = listenPingInterval;
        }

        /**
         * How often the heartbeat row is written.
         *
         * @return the interval, zero for no heartbeat
         */
        public Duration getHeartbeatInterval() {
            return heartbeatInterval;
        }

        /**
         * Sets how often the heartbeat row is written.
         *
         * @param heartbeatInterval at least 1 second, or zero for no heartbeat
         */
        public void setHeartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = heartbeatInterval;
        }

        /**
         * How long one handler call may run.
         *
         * @return the timeout
         */
        public Duration getHandlerTimeout() {
            return handlerTimeout;
        }

        /**
         * Sets how long one handler call may run.
         *
         * @param handlerTimeout a positive duration
         */
        public void setHandlerTimeout(Duration handlerTimeout) {
            this.handlerTimeout = handlerTimeout;
        }

        /**
         * How long one of the listener's own statements may take.
         *
         * @return the timeout
         */
        public Duration getStatementTimeout() {
            return statementTimeout;
        }

        /**
         * Sets how long one of the listener's own statements may take.
         *
         * @param statementTimeout a positive duration
         */
        public void setStatementTimeout(Duration statementTimeout) {
            this.statementTimeout = statementTimeout;
        }

        /**
         * How long the database may stay unusable.
         *
         * @return the limit
         */
        public Duration getOutageLimit() {
            return outageLimit;
        }

        /**
         * Sets how long the database may stay unusable.
         *
         * @param outageLimit a positive duration
         */
        public void setOutageLimit(Duration outageLimit) {
            this.outageLimit = outageLimit;
        }

        /**
         * How long stopping lets running handlers finish.
         *
         * @return the grace, or null for the default derived from Spring's shutdown timeout
         */
        public Duration getShutdownGrace() {
            return shutdownGrace;
        }

        /**
         * Sets how long stopping lets running handlers finish.
         *
         * @param shutdownGrace zero or more, or null for the default
         */
        public void setShutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = shutdownGrace;
        }

        /**
         * The largest payload loaded.
         *
         * @return bytes of JSON text
         */
        public int getMaxPayloadBytes() {
            return maxPayloadBytes;
        }

        /**
         * Sets the largest payload loaded.
         *
         * @param maxPayloadBytes bytes of JSON text, at least 1024
         */
        public void setMaxPayloadBytes(int maxPayloadBytes) {
            this.maxPayloadBytes = maxPayloadBytes;
        }

        /**
         * Payload bytes one claim loads at most.
         *
         * @return bytes of JSON text
         */
        public long getMaxBatchBytes() {
            return maxBatchBytes;
        }

        /**
         * Sets the payload bytes one claim loads at most.
         *
         * @param maxBatchBytes bytes of JSON text, at least 1024
         */
        public void setMaxBatchBytes(long maxBatchBytes) {
            this.maxBatchBytes = maxBatchBytes;
        }

        /**
         * How many overrun handler threads may be left running.
         *
         * @return the number, or null for as many as workers
         */
        public Integer getMaxAbandonedThreads() {
            return maxAbandonedThreads;
        }

        /**
         * Sets how many overrun handler threads may be left running.
         *
         * @param maxAbandonedThreads 0 to 10000, or null for as many as workers
         */
        public void setMaxAbandonedThreads(Integer maxAbandonedThreads) {
            this.maxAbandonedThreads = maxAbandonedThreads;
        }

        /**
         * Whether start-up drains the tasks already due first.
         *
         * @return true to recover on start
         */
        public boolean isRecoverOnStart() {
            return recoverOnStart;
        }

        /**
         * Sets whether start-up drains the tasks already due first.
         *
         * @param recoverOnStart false to skip start-up recovery
         */
        public void setRecoverOnStart(boolean recoverOnStart) {
            this.recoverOnStart = recoverOnStart;
        }

        /**
         * Whether batches run in Spring transactions of the application's transaction manager.
         *
         * @return true to join Spring's transactions
         */
        public boolean isSpringTransactions() {
            return springTransactions;
        }

        /**
         * Sets whether batches run in Spring transactions of the application's transaction manager.
         *
         * @param springTransactions false for the listener's own transactions on the DataSource
         */
        public void setSpringTransactions(boolean springTransactions) {
            this.springTransactions = springTransactions;
        }

        /**
         * Rows start-up recovery reads per round trip.
         *
         * @return the fetch size
         */
        public int getRecoveryFetchSize() {
            return recoveryFetchSize;
        }

        /**
         * Sets the rows start-up recovery reads per round trip.
         *
         * @param recoveryFetchSize 1 to 100000
         */
        public void setRecoveryFetchSize(int recoveryFetchSize) {
            this.recoveryFetchSize = recoveryFetchSize;
        }

        /**
         * The channels to serve.
         *
         * @return the channel names, or null for all
         */
        public List<String> getChannels() {
            return channels;
        }

        /**
         * Sets the channels to serve.
         *
         * @param channels the channel names, or null for all
         */
        public void setChannels(List<String> channels) {
            this.channels = channels;
        }

        /**
         * The default retry policy ({@code pgpubsub.listener.retry.*}).
         *
         * @return the retry settings
         */
        public Retry getRetry() {
            return retry;
        }

        /**
         * Settings of single channels ({@code pgpubsub.listener.channel.<name>.*}).
         *
         * @return the settings by channel name
         */
        public Map<String, ChannelSettings> getChannel() {
            return channel;
        }
    }

    /**
     * How failed tasks are retried: after failed attempt n the task is due again in
     * min(initial-delay * 2^(n - 1), max-delay), shortened at random by up to jitter of itself.
     */
    public static class Retry {

        /** Attempts in all, the first included, before a task moves to the dead letters (1 to 1000000). */
        private int maxAttempts = 25;

        /** The delay after the first failure. */
        private Duration initialDelay = Duration.ofSeconds(1);

        /** The longest delay between attempts. */
        private Duration maxDelay = Duration.ofHours(1);

        /** The share of each delay (0 to 1) that may be cut at random. */
        private double jitter = 0.2;

        /** Creates the settings with every default. */
        public Retry() {
        }

        /**
         * Attempts in all.
         *
         * @return the attempts
         */
        public int getMaxAttempts() {
            return maxAttempts;
        }

        /**
         * Sets the attempts in all.
         *
         * @param maxAttempts 1 to 1000000
         */
        public void setMaxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        /**
         * The delay after the first failure.
         *
         * @return the delay
         */
        public Duration getInitialDelay() {
            return initialDelay;
        }

        /**
         * Sets the delay after the first failure.
         *
         * @param initialDelay a positive duration
         */
        public void setInitialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
        }

        /**
         * The longest delay.
         *
         * @return the delay
         */
        public Duration getMaxDelay() {
            return maxDelay;
        }

        /**
         * Sets the longest delay.
         *
         * @param maxDelay at least the initial delay
         */
        public void setMaxDelay(Duration maxDelay) {
            this.maxDelay = maxDelay;
        }

        /**
         * The share of each delay that may be cut at random.
         *
         * @return 0 to 1
         */
        public double getJitter() {
            return jitter;
        }

        /**
         * Sets the share of each delay that may be cut at random.
         *
         * @param jitter 0 to 1
         */
        public void setJitter(double jitter) {
            this.jitter = jitter;
        }
    }

    /**
     * One channel's settings. A retry setting left out is the default policy's
     * ({@code pgpubsub.listener.retry.*}); once any is given, the channel's policy wins over its
     * handler's {@code @Listen(maxAttempts)}.
     */
    public static class ChannelSettings {

        /** How long one call of this channel's handler may run; wins over @Listen(timeout). */
        private Duration handlerTimeout;

        /** Attempts in all for this channel's tasks. */
        private Integer maxAttempts;

        /** The delay after this channel's first failure. */
        private Duration initialDelay;

        /** The longest delay between attempts of this channel. */
        private Duration maxDelay;

        /** The share of each delay (0 to 1) that may be cut at random. */
        private Double jitter;

        /** Creates settings that leave everything to the defaults. */
        public ChannelSettings() {
        }

        /**
         * The channel's handler timeout.
         *
         * @return the timeout, or null for the handler's or the listener's
         */
        public Duration getHandlerTimeout() {
            return handlerTimeout;
        }

        /**
         * Sets the channel's handler timeout.
         *
         * @param handlerTimeout a positive duration, or null
         */
        public void setHandlerTimeout(Duration handlerTimeout) {
            this.handlerTimeout = handlerTimeout;
        }

        /**
         * The channel's attempts in all.
         *
         * @return the attempts, or null for the default policy's
         */
        public Integer getMaxAttempts() {
            return maxAttempts;
        }

        /**
         * Sets the channel's attempts in all.
         *
         * @param maxAttempts 1 to 1000000, or null
         */
        public void setMaxAttempts(Integer maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        /**
         * The channel's first delay.
         *
         * @return the delay, or null for the default policy's
         */
        public Duration getInitialDelay() {
            return initialDelay;
        }

        /**
         * Sets the channel's first delay.
         *
         * @param initialDelay a positive duration, or null
         */
        public void setInitialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
        }

        /**
         * The channel's longest delay.
         *
         * @return the delay, or null for the default policy's
         */
        public Duration getMaxDelay() {
            return maxDelay;
        }

        /**
         * Sets the channel's longest delay.
         *
         * @param maxDelay at least the initial delay, or null
         */
        public void setMaxDelay(Duration maxDelay) {
            this.maxDelay = maxDelay;
        }

        /**
         * The channel's jitter.
         *
         * @return 0 to 1, or null for the default policy's
         */
        public Double getJitter() {
            return jitter;
        }

        /**
         * Sets the channel's jitter.
         *
         * @param jitter 0 to 1, or null
         */
        public void setJitter(Double jitter) {
            this.jitter = jitter;
        }

        boolean hasRetry() {
            return maxAttempts != null || initialDelay != null || maxDelay != null || jitter != null;
        }
    }

    /**
     * One schedule, as the standalone process's configuration file declares it: {@code cron} (with
     * {@code zone}) or {@code every}; then {@code channel}, {@code payload} and {@code catch-up}.
     */
    public static class ScheduleSettings {

        /** Five-field Unix cron expression (minute hour day-of-month month day-of-week), e.g. "0 6 * * *". */
        private String cron;

        /** The time zone of the cron expression: a region id such as Europe/Paris, or UTC (the default). */
        private String zone;

        /** A fixed interval instead of a cron expression: whole seconds, at least one, e.g. 5m. */
        private Duration every;

        /** The channel the tasks are published to. */
        private String channel;

        /** The JSON payload of every task. */
        private String payload = "{}";

        /** Whether the latest slot missed while no listener ran is published once, however late. */
        private boolean catchUp;

        /** Creates settings without a definition or a channel. */
        public ScheduleSettings() {
        }

        /**
         * The cron expression.
         *
         * @return the expression, or null for an interval schedule
         */
        public String getCron() {
            return cron;
        }

        /**
         * Sets the cron expression.
         *
         * @param cron five fields of Unix cron
         */
        public void setCron(String cron) {
            this.cron = cron;
        }

        /**
         * The cron expression's time zone.
         *
         * @return the zone id, or null for UTC
         */
        public String getZone() {
            return zone;
        }

        /**
         * Sets the cron expression's time zone.
         *
         * @param zone a region id, or UTC
         */
        public void setZone(String zone) {
            this.zone = zone;
        }

        /**
         * The interval.
         *
         * @return the interval, or null for a cron schedule
         */
        public Duration getEvery() {
            return every;
        }

        /**
         * Sets the interval.
         *
         * @param every whole seconds, at least one
         */
        public void setEvery(Duration every) {
            this.every = every;
        }

        /**
         * The channel of the tasks.
         *
         * @return the channel's name
         */
        public String getChannel() {
            return channel;
        }

        /**
         * Sets the channel of the tasks.
         *
         * @param channel a channel name
         */
        public void setChannel(String channel) {
            this.channel = channel;
        }

        /**
         * The payload of the tasks.
         *
         * @return JSON text; {@code {}} by default
         */
        public String getPayload() {
            return payload;
        }

        /**
         * Sets the payload of the tasks.
         *
         * @param payload JSON text
         */
        public void setPayload(String payload) {
            this.payload = payload;
        }

        /**
         * Whether the schedule catches up after downtime.
         *
         * @return true to publish the latest missed slot once
         */
        public boolean isCatchUp() {
            return catchUp;
        }

        /**
         * Sets whether the schedule catches up after downtime.
         *
         * @param catchUp true to publish the latest missed slot once
         */
        public void setCatchUp(boolean catchUp) {
            this.catchUp = catchUp;
        }
    }
}
