package dev.pgpubsub.listener;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.listener.internal.DatabaseAddress;
import dev.pgpubsub.listener.internal.WorkerConnections;
import dev.pgpubsub.listener.internal.claim.Backoff;
import dev.pgpubsub.listener.internal.claim.ChannelPolicy;
import dev.pgpubsub.listener.internal.claim.ClaimStatements;
import dev.pgpubsub.listener.internal.claim.WorkerPool;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.HandlerScanner;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import dev.pgpubsub.listener.internal.dispatch.RowChangeType;
import dev.pgpubsub.listener.internal.notifier.ListenSession;
import dev.pgpubsub.listener.internal.recovery.Recovery;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs handlers for the tasks published to its channels, each task's database effects committed
 * exactly once, however many listeners run.
 *
 * <pre>{@code
 * try (Listener listener = Listener.builder()
 *         .jdbcUrl("jdbc:postgresql://localhost:5432/shop").user("app").password(secret)
 *         .handlers(new OrderHandlers())
 *         .build()) {
 *     listener.start();
 *     ...
 * }
 * }</pre>
 *
 * <p>A dedicated pgjdbc-ng connection LISTENs for wake-ups; workers claim due rows with
 * {@code FOR UPDATE SKIP LOCKED} on connections from a pool, run the handler inside the claiming
 * transaction and delete the row in that same transaction. See {@code docs/how-it-works.md}.
 */
public final class Listener implements AutoCloseable {

    /** Workers by default. */
    public static final int DEFAULT_WORKERS = 4;
    /** Rows claimed per transaction by default. */
    public static final int DEFAULT_BATCH_SIZE = 100;
    /** How long one handler call may run by default before its transaction is aborted and the task retried. */
    public static final Duration DEFAULT_HANDLER_TIMEOUT = Duration.ofMinutes(5);
    /** The statement timeout of the library's own queries by default. */
    public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(30);
    /** How long the database may stay unusable by default before the listener gives up. */
    public static final Duration DEFAULT_OUTAGE_LIMIT = Duration.ofMinutes(15);
    /** Payloads larger than this (as JSON text) go to the dead letters unread, by default: 8 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 8 << 20;
    /** Safety-net poll interval by default: due rows are claimed even if a wake-up is lost. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(10);
    /** How long {@link #close()} lets running handlers finish by default. */
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);
    /** How often the LISTEN connection is checked with a round trip by default. */
    public static final Duration DEFAULT_LISTEN_PING_INTERVAL = Duration.ofSeconds(15);
    /** Rows start-up recovery reads from its cursor per round trip by default. */
    public static final int DEFAULT_RECOVERY_FETCH_SIZE = 500;

    private static final Logger LOG = LoggerFactory.getLogger(Listener.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final Config settings;
    private final HandlerRegistry registry;
    private final String name;
    private WorkerConnections connections;
    private ListenSession notifier;
    private WorkerPool workers;
    private Thread recovery;
    private volatile boolean recovering;
    private volatile Throwable failure;
    private final LongAdder wakeUps = new LongAdder();
    private State state = State.NEW;

    private enum State { NEW, RUNNING, CLOSED }

    /** The settings, frozen when the listener is built. */
    private record Config(String jdbcUrl, String user, String password, DataSource dataSource, String schema,
            int workers, int batchSize, Map<String, ChannelPolicy> policies, Duration pollInterval,
            Duration shutdownGrace, JsonMapper mapper, boolean recoverOnStart, int recoveryFetchSize,
            Consumer<RecoveryProgress> recoveryProgress, boolean pollOnly, Duration listenPingInterval,
            Duration statementTimeout, int maxPayloadBytes, int maxAbandonedThreads, Duration outageLimit,
            Consumer<Throwable> onFailure) {
    }

    private Listener(Config settings, HandlerRegistry registry) {
        this.settings = settings;
        this.registry = registry;
        this.name = "pgpubsub-" + INSTANCES.incrementAndGet();
    }

    /**
     * A builder; {@link Builder#build()} checks every setting and handler.
     *
     * @return a builder with every setting at its default and no handlers
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The channels this listener serves, in registration order.
     *
     * @return the channel names
     */
    public List<String> channels() {
        return registry.all().stream().map(RegisteredHandler::channel).toList();
    }

    /**
     * Counters since start; all zero before.
     *
     * @return a snapshot of the counters
     */
    public ListenerStats stats() {
        WorkerPool pool;
        synchronized (this) {
            pool = workers;
        }
        long[] c = pool == null ? new long[8] : pool.counters();
        return new ListenerStats(wakeUps.sum(), c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], recovering);
    }

    /**
     * Why this listener stopped by itself, if it did: the database stayed unusable for longer than
     * its outage limit ({@link Builder#outageLimit}). Empty while it runs, and after a
     * {@link #close()}.
     *
     * @return the cause of the stop, or empty
     */
    public java.util.Optional<Throwable> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    /** The database stayed unusable for too long: close, and tell whoever asked to know. */
    private void giveUp(Throwable cause) {
        synchronized (this) {
            if (failure != null || state != State.RUNNING) {
                return;
            }
            failure = cause;
        }
        LOG.error("Listener {} is stopping: the database stayed unusable for longer than its outage limit ({})", name,
                settings.outageLimit, cause);
        Thread closer = new Thread(() -> {
            close();
            try {
                settings.onFailure.accept(cause);
            } catch (RuntimeException e) {
                LOG.warn("The onFailure callback threw", e);
            }
        }, name + "-give-up");
        closer.setDaemon(true);
        closer.start();
    }

    /**
     * Connects, LISTENs to its channels, then claims what is already due and from then on whatever a
     * wake-up, a due time or the safety-net poll announces.
     *
     * @throws PgPubSubException when the database cannot be reached, pgpubsub is not installed, or
     *                           the worker pool is too small (the message says which and what to do)
     */
    public synchronized void start() {
        if (state != State.NEW) {
            throw new IllegalStateException("This listener was already started; build a new one to start again");
        }
        state = State.RUNNING;
        try {
            connections = WorkerConnections.open(settings.dataSource, settings.jdbcUrl, settings.user, settings.password,
                    settings.workers, name, settings.statementTimeout);
            connections.check(settings.workers, settings.schema);
            Map<String, String> byWakeup = new LinkedHashMap<>();
            channels().forEach(channel -> byWakeup.put(Names.wakeupChannel(settings.schema, channel), channel));
            workers = new WorkerPool(new WorkerPool.Settings(name, settings.workers, settings.batchSize, settings.policies,
                    settings.shutdownGrace, settings.maxPayloadBytes, connections.ownPool() ? null : settings.statementTimeout,
                    settings.maxAbandonedThreads, settings.outageLimit, this::giveUp),
                    connections.dataSource(), new ClaimStatements(settings.schema), registry,
                    settings.mapper == null ? PayloadCodec.standard() : PayloadCodec.using(settings.mapper));
            // LISTEN first, then scan: whatever is published from here on wakes us, and the first scan
            // (wakeAll below) finds everything published before.
            WorkerPool pool = workers;
            if (!settings.pollOnly) {
                notifier = new ListenSession(this::openListenConnection, byWakeup, channel -> {
                    wakeUps.increment();
                    pool.wake(channel);
                }, pool::wakeAll, name, settings.listenPingInterval, settings.outageLimit, this::giveUp);
                notifier.start();
            }
            LOG.info("Listener {} started: channels {}, {} workers, batches of {}, schema '{}'{}{}", name, channels(),
                    settings.workers, settings.batchSize, settings.schema, settings.recoverOnStart ? ", recovering first" : "",
                    settings.pollOnly ? ", poll only (every " + settings.pollInterval + ")" : "");
            if (settings.recoverOnStart) {
                recovering = true; // before the thread starts, so that stats() never shows a gap
                recovery = new Thread(this::recoverThenServe, name + "-recovery-cursor");
                recovery.setDaemon(true);
                recovery.start();
            } else {
                serve();
            }
        } catch (SQLException e) {
            close();
            throw new PgPubSubException("Listener could not start: " + WorkerConnections.rootMessage(e) + ". Check the JDBC "
                    + "URL, user and password, and that the database is reachable.", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * LISTEN is already on, so nothing published from now on is missed: wake-ups that arrive during
     * recovery wait in the wake queue (each channel once) for the claim loop that starts after it.
     */
    private void recoverThenServe() {
        try {
            new Recovery(new Recovery.Settings(settings.schema, channels(), settings.recoveryFetchSize, settings.batchSize,
                    settings.workers, name), connections.dataSource(), workers::runRecovered, this::isRunning,
                    (done, read, estimate, nanos, finished) -> settings.recoveryProgress.accept(
                            new RecoveryProgress(done, read, estimate, Duration.ofNanos(nanos), finished))).run();
        } catch (SQLException | RuntimeException e) {
            LOG.warn("Listener {}: start-up recovery stopped early ({}); the claim loop takes over the rest", name,
                    WorkerConnections.rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            recovering = false;
        }
        serve();
    }

    /** Starts the claim loop, and queues every channel once: the scan after LISTEN. */
    private void serve() {
        if (isRunning()) {
            workers.start(settings.pollInterval);
            workers.wakeAll();
        }
    }

    private synchronized boolean isRunning() {
        return state == State.RUNNING;
    }

    /**
     * Stops claiming, lets running handlers finish within the shutdown grace period, rolls back the
     * rest, and closes every connection and thread. Idempotent.
     */
    @Override
    public void close() {
        Thread recoveryThread;
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            recoveryThread = recovery;
        }
        if (recoveryThread != null && recoveryThread != Thread.currentThread()) {
            // Recovery stops after its chunks in flight; they finish within the grace period.
            try {
                recoveryThread.join(settings.shutdownGrace.toMillis() + 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeResources();
    }

    private synchronized void closeResources() {
        if (notifier != null) {
            notifier.close();
        }
        if (workers != null) {
            workers.close();
        }
        if (connections != null) {
            connections.close();
        }
        LOG.info("Listener {} closed", name);
    }

    private Connection openListenConnection() throws SQLException {
        DatabaseAddress address = DatabaseAddress.parse(settings.jdbcUrl);
        Properties props = new Properties();
        String user = settings.user != null ? settings.user : address.parameters().get("user");
        String password = settings.password != null ? settings.password : address.parameters().get("password");
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("application.name", name + "-listen");
        return DriverManager.getConnection(address.pgjdbcNgUrl(), props);
    }

    /** Settings of a {@link Listener}, each with a named default. */
    public static final class Builder {
        private String jdbcUrl;
        private String user;
        private String password;
        private DataSource dataSource;
        private String schema = PgPubSub.DEFAULT_SCHEMA;
        private int workers = DEFAULT_WORKERS;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        private final Map<String, RetryPolicy> channelRetryPolicies = new LinkedHashMap<>();
        private Duration handlerTimeout = DEFAULT_HANDLER_TIMEOUT;
        private final Map<String, Duration> channelHandlerTimeouts = new LinkedHashMap<>();
        private Duration statementTimeout = DEFAULT_STATEMENT_TIMEOUT;
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        private Integer maxAbandonedThreads;
        private Duration outageLimit = DEFAULT_OUTAGE_LIMIT;
        private Consumer<Throwable> onFailure = cause -> { };
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;
        private JsonMapper mapper;
        private boolean recoverOnStart = true;
        private int recoveryFetchSize = DEFAULT_RECOVERY_FETCH_SIZE;
        private Consumer<RecoveryProgress> recoveryProgress = progress -> { };
        private List<String> onlyChannels;
        private boolean pollOnly;
        private Duration listenPingInterval = DEFAULT_LISTEN_PING_INTERVAL;
        private final HandlerRegistry registry = new HandlerRegistry();

        private Builder() {
        }

        /**
         * The database: a {@code jdbc:postgresql:} (or {@code jdbc:pgsql:}) URL. The LISTEN connection
         * is built from it (always with pgjdbc-ng), and so is the worker pool unless
         * {@link #dataSource(DataSource)} is given.
         *
         * @param jdbcUrl the URL, e.g. {@code jdbc:postgresql://localhost:5432/shop}; it must name a database
         * @return this builder
         * @throws IllegalArgumentException when the URL is empty, not a Postgres URL or names no database
         */
        public Builder jdbcUrl(String jdbcUrl) {
            DatabaseAddress.parse(jdbcUrl);
            this.jdbcUrl = jdbcUrl;
            return this;
        }

        /**
         * The user to connect as (else the URL's {@code user} parameter).
         *
         * @param user the role name; null for the URL's
         * @return this builder
         */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /**
         * The password (else the URL's {@code password} parameter).
         *
         * @param password the password; null for the URL's
         * @return this builder
         */
        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /**
         * Where workers get connections (any Postgres driver, ideally a pool). It must serve
         * {@code workers + 1} connections at once; {@link Listener#start()} checks. Default: a HikariCP
         * pool of that size built from {@link #jdbcUrl(String)}.
         *
         * @param dataSource the source of worker connections; null for the default pool
         * @return this builder
         */
        public Builder dataSource(DataSource dataSource) {
            this.dataSource = dataSource;
            return this;
        }

        /**
         * The schema pgpubsub is installed in; default {@value PgPubSub#DEFAULT_SCHEMA}.
         *
         * @param schema lower-case letters, digits and underscores, at most 31 bytes
         * @return this builder
         * @throws IllegalArgumentException when the schema name is not valid
         */
        public Builder schema(String schema) {
            this.schema = Names.requireSchema(schema);
            return this;
        }

        /**
         * How many handlers run at once; default {@value #DEFAULT_WORKERS}.
         *
         * @param workers 1 to 1,000
         * @return this builder
         * @throws IllegalArgumentException when {@code workers} is out of range
         */
        public Builder workers(int workers) {
            this.workers = requireRange("workers", workers, 1, 1_000);
            return this;
        }

        /**
         * Rows claimed and committed per transaction; default {@value #DEFAULT_BATCH_SIZE}.
         *
         * @param batchSize 1 to 10,000
         * @return this builder
         * @throws IllegalArgumentException when {@code batchSize} is out of range
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = requireRange("batchSize", batchSize, 1, 10_000);
            return this;
        }

        /**
         * Retry delays of every channel's default policy: {@code initial * 2^(attempt - 1)}, at most
         * {@code max}; default 1 s up to 1 h. A shorthand for {@link #retryPolicy(RetryPolicy)}.
         *
         * @param initial the delay after the first failure; positive
         * @param max     the longest delay; at least {@code initial}
         * @return this builder
         * @throws IllegalArgumentException when a delay is null or not positive, or {@code max} is shorter
         *                                  than {@code initial}
         */
        public Builder retryBackoff(Duration initial, Duration max) {
            requirePositive("retryBackoff initial", initial);
            requirePositive("retryBackoff max", max);
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("retryBackoff max (" + max + ") is shorter than initial (" + initial
                        + "): make max at least initial");
            }
            this.retryPolicy = retryPolicy.withDelays(initial, max);
            return this;
        }

        /**
         * How failed tasks are retried, and after how many attempts they move to the dead letters,
         * for every channel without a policy of its own; default {@link RetryPolicy#DEFAULT}.
         *
         * @param policy the default policy; {@code @Listen(maxAttempts)} may still change its attempts per channel
         * @return this builder
         * @throws IllegalArgumentException when {@code policy} is null
         */
        public Builder retryPolicy(RetryPolicy policy) {
            this.retryPolicy = requireNonNull("retryPolicy", policy);
            return this;
        }

        /**
         * The retry policy of one channel; it wins over the handler's {@code @Listen(maxAttempts)} and
         * over {@link #retryPolicy(RetryPolicy)}.
         *
         * @param channel the channel; {@link #build()} refuses one this listener does not serve
         * @param policy  the channel's policy
         * @return this builder
         * @throws IllegalArgumentException when the channel name is not valid or {@code policy} is null
         */
        public Builder retryPolicy(String channel, RetryPolicy policy) {
            channelRetryPolicies.put(Names.requireChannel(channel), requireNonNull("retryPolicy", policy));
            return this;
        }

        /**
         * How long one handler call may run before its transaction is aborted (rolling the task back;
         * it is retried as a failed attempt) and its worker thread replaced, for every channel without
         * a timeout of its own; default 5 min. The server enforces it too: the handler's statements and
         * idle gaps in the claiming transaction are bounded by it.
         *
         * @param timeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException when {@code timeout} is null, zero or negative
         */
        public Builder handlerTimeout(Duration timeout) {
            this.handlerTimeout = requirePositive("handlerTimeout", timeout);
            return this;
        }

        /**
         * The handler timeout of one channel; it wins over {@code @Listen(timeout)} and {@link #handlerTimeout(Duration)}.
         *
         * @param channel the channel; {@link #build()} refuses one this listener does not serve
         * @param timeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException when the channel name is not valid, or {@code timeout} is null,
         *                                  zero or negative
         */
        public Builder handlerTimeout(String channel, Duration timeout) {
            channelHandlerTimeouts.put(Names.requireChannel(channel), requirePositive("handlerTimeout", timeout));
            return this;
        }

        /**
         * The statement timeout of the library's own queries (claims, failures, recovery reads), set
         * on the worker connections: a query stuck behind a lock fails, and is retried with backoff,
         * instead of hanging; default 30 s. Handlers' statements are bounded by the handler timeout.
         *
         * @param timeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException when {@code timeout} is null, zero or negative
         */
        public Builder statementTimeout(Duration timeout) {
            this.statementTimeout = requirePositive("statementTimeout", timeout);
            return this;
        }

        /**
         * Payloads larger than this many bytes of JSON text are moved to the dead letters without
         * being loaded, so that a hand-inserted giant cannot exhaust the heap; default 8 MiB. Memory
         * for payloads is at most about {@code workers * batchSize} times this.
         *
         * @param bytes the largest payload to load, in bytes of JSON text; at least 1,024
         * @return this builder
         * @throws IllegalArgumentException when {@code bytes} is less than 1,024
         */
        public Builder maxPayloadBytes(int bytes) {
            this.maxPayloadBytes = requireRange("maxPayloadBytes", bytes, 1_024, Integer.MAX_VALUE);
            return this;
        }

        /**
         * How many handler threads that overran their timeout (and cannot be stopped: Java has no way
         * to kill a thread) may be left running before timed-out workers are no longer replaced;
         * default: as many as workers. {@link ListenerStats#abandonedThreads()} reports them.
         *
         * @param threads 0 to 10,000
         * @return this builder
         * @throws IllegalArgumentException when {@code threads} is out of range
         */
        public Builder maxAbandonedThreads(int threads) {
            this.maxAbandonedThreads = requireRange("maxAbandonedThreads", threads, 0, 10_000);
            return this;
        }

        /**
         * How long the database may stay unusable (the LISTEN connection cannot be restored, or every
         * claim fails) before the listener stops and reports it through {@link #onFailure} and
         * {@link Listener#failure()}; default 15 min. Until then it retries with backoff.
         *
         * @param limit a positive duration
         * @return this builder
         * @throws IllegalArgumentException when {@code limit} is null, zero or negative
         */
        public Builder outageLimit(Duration limit) {
            this.outageLimit = requirePositive("outageLimit", limit);
            return this;
        }

        /**
         * Told (on a thread of its own, after the listener closed) when the listener stopped by itself
         * because the database stayed unusable for longer than {@link #outageLimit}; e.g. to exit the
         * process so that its supervisor restarts it.
         *
         * @param callback receives the cause of the stop; default: does nothing
         * @return this builder
         * @throws IllegalArgumentException when {@code callback} is null
         */
        public Builder onFailure(Consumer<Throwable> callback) {
            this.onFailure = requireNonNull("onFailure", callback);
            return this;
        }

        /**
         * Poll only: no LISTEN connection; every channel is checked each {@link #pollInterval} (set it
         * short, e.g. 1 s). For connections through PgBouncer in transaction mode, where LISTEN does
         * not work; default false.
         *
         * @param pollOnly true to poll instead of LISTENing
         * @return this builder
         */
        public Builder pollOnly(boolean pollOnly) {
            this.pollOnly = pollOnly;
            return this;
        }

        /**
         * How often the LISTEN connection is checked with a round trip (timing out after the same
         * time, at most 10 s): a half-open connection, which never closes but delivers nothing, is
         * replaced within about twice this; default 15 s.
         *
         * @param interval a positive duration
         * @return this builder
         * @throws IllegalArgumentException when {@code interval} is null, zero or negative
         */
        public Builder listenPingInterval(Duration interval) {
            this.listenPingInterval = requirePositive("listenPingInterval", interval);
            return this;
        }

        /**
         * The safety-net poll interval; default 10 s.
         *
         * @param pollInterval how often every channel is checked for due rows; positive
         * @return this builder
         * @throws IllegalArgumentException when {@code pollInterval} is null, zero or negative
         */
        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = requirePositive("pollInterval", pollInterval);
            return this;
        }

        /**
         * How long {@link Listener#close()} lets running handlers finish; default 30 s.
         *
         * @param shutdownGrace zero (roll back at once) or more
         * @return this builder
         * @throws IllegalArgumentException when {@code shutdownGrace} is null or negative
         */
        public Builder shutdownGrace(Duration shutdownGrace) {
            if (shutdownGrace == null || shutdownGrace.isNegative()) {
                throw new IllegalArgumentException("shutdownGrace is " + shutdownGrace + ": give zero or more, e.g. Duration.ofSeconds(30)");
            }
            this.shutdownGrace = shutdownGrace;
            return this;
        }

        /**
         * Whether {@link Listener#start()} first drains the rows already due through a server-side
         * cursor, oldest first, in flat memory, before serving wake-ups; default true. Without it the
         * claim loop drains them too, in its own batches.
         *
         * @param recoverOnStart false to skip start-up recovery
         * @return this builder
         */
        public Builder recoverOnStart(boolean recoverOnStart) {
            this.recoverOnStart = recoverOnStart;
            return this;
        }

        /**
         * Rows start-up recovery reads per round trip from its cursor; default {@value #DEFAULT_RECOVERY_FETCH_SIZE}.
         *
         * @param fetchSize 1 to 100,000
         * @return this builder
         * @throws IllegalArgumentException when {@code fetchSize} is out of range
         */
        public Builder recoveryFetchSize(int fetchSize) {
            this.recoveryFetchSize = requireRange("recoveryFetchSize", fetchSize, 1, 100_000);
            return this;
        }

        /**
         * Receives start-up recovery's progress after every batch, and once when it ends (e.g. to draw
         * a progress bar). Called on recovery's threads: return quickly and do not throw.
         *
         * @param observer receives each report
         * @return this builder
         * @throws IllegalArgumentException when {@code observer} is null
         */
        public Builder onRecoveryProgress(Consumer<RecoveryProgress> observer) {
            if (observer == null) {
                throw new IllegalArgumentException("The recovery progress observer is null; leave it unset for none");
            }
            this.recoveryProgress = observer;
            return this;
        }

        /**
         * The Jackson mapper for payloads; it should ignore unknown properties (the default's does).
         *
         * @param mapper the mapper to read payloads with; null for the library's
         * @return this builder
         */
        public Builder jsonMapper(JsonMapper mapper) {
            this.mapper = mapper;
            return this;
        }

        /**
         * Registers the {@link Listen} methods of each bean. Every method is checked now: a class with
         * none, a non-public method, a parameter that is neither a record nor a {@link TaskContext},
         * or a second handler for a channel is refused with a message naming the class and method.
         *
         * @param beans objects whose public {@link Listen} methods handle their channels
         * @return this builder
         * @throws IllegalArgumentException when a bean or one of its methods is refused
         */
        public Builder handlers(Object... beans) {
            for (Object bean : beans) {
                HandlerScanner.scan(bean).forEach(registry::add);
            }
            return this;
        }

        /**
         * Registers a handler for a channel.
         *
         * @param channel the channel, whose payload type the handler receives
         * @param handler handles each task of the channel
         * @param <P>     the payload type
         * @return this builder
         * @throws IllegalArgumentException when either argument is null, or the channel already has a handler
         */
        @SuppressWarnings("unchecked")
        public <P extends Record> Builder on(Channel<P> channel, Handler<P> handler) {
            if (channel == null || handler == null) {
                throw new IllegalArgumentException("on(channel, handler) needs both: got channel " + channel + ", handler " + handler);
            }
            registry.add(new RegisteredHandler(channel.name(), channel.payloadType(), (Handler<Record>) handler,
                    "on(" + channel.name() + ", " + handler.getClass().getName() + ")"));
            return this;
        }

        /**
         * Serves only these of the registered channels (e.g. to split channels across processes that
         * load the same handlers); default: all. A name without a handler is refused.
         *
         * @param names the channels to serve; null for all
         * @return this builder
         */
        public Builder channels(List<String> names) {
            this.onlyChannels = names == null ? null : List.copyOf(names);
            return this;
        }

        /**
         * Registers a handler for the changes a trigger channel publishes
         * ({@code dev.pgpubsub.core.TriggerChannel}), rows mapped to {@code rowType}.
         *
         * @param channel the trigger channel's name
         * @param rowType the record each row maps to, by column name
         * @param handler handles each change, with the row before and after it
         * @param <T>     the row type
         * @return this builder
         * @throws IllegalArgumentException when an argument is null, the channel name is not valid, or the
         *                                  channel already has a handler
         */
        @SuppressWarnings("unchecked")
        public <T> Builder onRowChanges(String channel, Class<T> rowType, Handler<RowChange<T>> handler) {
            if (rowType == null || handler == null) {
                throw new IllegalArgumentException("onRowChanges(channel, rowType, handler) needs all three: got row type "
                        + rowType + ", handler " + handler);
            }
            registry.add(new RegisteredHandler(Names.requireChannel(channel), new RowChangeType(rowType),
                    (Handler<Record>) (Handler<?>) handler, "onRowChanges(" + channel + ", " + rowType.getName() + ")"));
            return this;
        }

        /**
         * The listener, not yet started; every setting and handler is checked here.
         *
         * @return a new listener; start it with {@link Listener#start()}
         * @throws IllegalArgumentException when no JDBC URL or no handler was given, or a setting or
         *                                  handler is not valid (the message says which)
         */
        public Listener build() {
            if (jdbcUrl == null) {
                throw new IllegalArgumentException("No JDBC URL: call jdbcUrl(\"jdbc:postgresql://host:5432/db\"); the LISTEN "
                        + "connection is built from it");
            }
            if (registry.isEmpty()) {
                throw new IllegalArgumentException("No handlers: register some with handlers(beans...) or on(channel, handler)");
            }
            HandlerRegistry served = onlyChannels == null ? registry.copy() : registry.only(onlyChannels);
            served.validateFor(schema);
            for (String channel : channelRetryPolicies.keySet()) {
                requireServed(served, channel, "retryPolicy");
            }
            for (String channel : channelHandlerTimeouts.keySet()) {
                requireServed(served, channel, "handlerTimeout");
            }
            Map<String, ChannelPolicy> policies = new LinkedHashMap<>();
            for (RegisteredHandler handler : served.all()) {
                RetryPolicy retry = channelRetryPolicies.get(handler.channel());
                if (retry == null) {
                    retry = handler.maxAttempts() > 0 ? retryPolicy.withMaxAttempts(handler.maxAttempts()) : retryPolicy;
                }
                Duration timeout = channelHandlerTimeouts.getOrDefault(handler.channel(),
                        handler.timeout() != null ? handler.timeout() : handlerTimeout);
                policies.put(handler.channel(), new ChannelPolicy(retry.maxAttempts(),
                        new Backoff(retry.initialDelay(), retry.maxDelay(), retry.jitter()), timeout));
            }
            return new Listener(new Config(jdbcUrl, user, password, dataSource, schema, workers, batchSize,
                    Map.copyOf(policies), pollInterval, shutdownGrace, mapper, recoverOnStart, recoveryFetchSize,
                    recoveryProgress, pollOnly, listenPingInterval, statementTimeout, maxPayloadBytes,
                    maxAbandonedThreads == null ? workers : maxAbandonedThreads, outageLimit, onFailure), served);
        }

        private static void requireServed(HandlerRegistry served, String channel, String setting) {
            if (served.get(channel) == null) {
                throw new IllegalArgumentException(setting + " was given for channel '" + channel + "', which this listener "
                        + "does not serve; it serves " + served.all().stream().map(RegisteredHandler::channel).toList()
                        + ". Name one of those, or register its handler.");
            }
        }

        private static <T> T requireNonNull(String name, T value) {
            if (value == null) {
                throw new IllegalArgumentException(name + " is null; give a value, or leave it unset for the default");
            }
            return value;
        }

        /**
         * {@link #build()} then {@link Listener#start()}.
         *
         * @return the running listener
         * @throws IllegalArgumentException when a setting or handler is not valid; see {@link #build()}
         * @throws PgPubSubException when the listener cannot start; see {@link Listener#start()}
         */
        public Listener start() {
            Listener listener = build();
            listener.start();
            return listener;
        }

        private static int requireRange(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + " is " + value + "; it must be between " + min + " and " + max);
            }
            return value;
        }

        private static Duration requirePositive(String name, Duration value) {
            if (value == null || value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(name + " is " + value + "; give a positive duration, e.g. Duration.ofSeconds(1)");
            }
            return value;
        }
    }
}
