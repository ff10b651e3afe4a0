package dev.pgpubsub.listener;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.listener.internal.DatabaseAddress;
import dev.pgpubsub.listener.internal.ListenerConfig;
import dev.pgpubsub.listener.internal.claim.ObservedTasks;
import dev.pgpubsub.listener.internal.dispatch.HandlerScanner;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import dev.pgpubsub.listener.internal.dispatch.RowChangeType;
import dev.pgpubsub.listener.internal.schedule.ScheduleSpec;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * Settings of a {@link Listener}, each with a named default; get one from {@link Listener#builder()}.
 * Each setting is checked when it is set, and all of them together by {@link #build()}.
 */
public final class ListenerBuilder {

    private final ListenerConfig.Values v = new ListenerConfig.Values();

    ListenerBuilder() {
    }

    /**
     * The database: a {@code jdbc:postgresql:} (or {@code jdbc:pgsql:}) URL. The LISTEN connection
     * is built from it (always with pgjdbc-ng), and so is the worker pool unless
     * {@link #dataSource(DataSource)} is given. Only a {@link #pollOnly poll-only} listener with a
     * {@code dataSource} needs none.
     *
     * @param jdbcUrl the URL, e.g. {@code jdbc:postgresql://localhost:5432/shop}; it must name a database
     * @return this builder
     * @throws IllegalArgumentException when the URL is empty, not a Postgres URL or names no database
     */
    public ListenerBuilder jdbcUrl(String jdbcUrl) {
        DatabaseAddress.parse(jdbcUrl);
        v.jdbcUrl = jdbcUrl;
        return this;
    }

    /**
     * The user to connect as (else the URL's {@code user} parameter).
     *
     * @param user the role name; null for the URL's
     * @return this builder
     */
    public ListenerBuilder user(String user) {
        v.user = user;
        return this;
    }

    /**
     * The password (else the URL's {@code password} parameter).
     *
     * @param password the password; null for the URL's
     * @return this builder
     */
    public ListenerBuilder password(String password) {
        v.password = password;
        return this;
    }

    /**
     * Where workers get connections (any Postgres driver, ideally a pool). It must serve
     * {@code workers + 2} connections at once (one per worker, one for start-up recovery's cursor,
     * one for bookkeeping), and one more with {@link #schedule(Schedule) schedules} (for the timer
     * thread that publishes their slots); {@link Listener#start()} checks. Default: a HikariCP pool
     * of that size built from {@link #jdbcUrl(String)}.
     *
     * @param dataSource the source of worker connections; null for the default pool
     * @return this builder
     */
    public ListenerBuilder dataSource(DataSource dataSource) {
        v.dataSource = dataSource;
        return this;
    }

    /**
     * The schema pgpubsub is installed in; default {@value PgPubSub#DEFAULT_SCHEMA}.
     *
     * @param schema lower-case letters, digits and underscores, at most 31 bytes
     * @return this builder
     * @throws IllegalArgumentException when the schema name is not valid
     */
    public ListenerBuilder schema(String schema) {
        v.schema = Names.requireSchema(schema);
        return this;
    }

    /**
     * How many handlers run at once; default {@value Listener#DEFAULT_WORKERS}.
     *
     * @param workers 1 to 1,000
     * @return this builder
     * @throws IllegalArgumentException when {@code workers} is out of range
     */
    public ListenerBuilder workers(int workers) {
        v.workers = requireRange("workers", workers, 1, 1_000);
        return this;
    }

    /**
     * Rows claimed and committed per transaction; default {@value Listener#DEFAULT_BATCH_SIZE}.
     *
     * @param batchSize 1 to 10,000
     * @return this builder
     * @throws IllegalArgumentException when {@code batchSize} is out of range
     */
    public ListenerBuilder batchSize(int batchSize) {
        v.batchSize = requireRange("batchSize", batchSize, 1, 10_000);
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
    public ListenerBuilder retryBackoff(Duration initial, Duration max) {
        requirePositive("retryBackoff initial", initial);
        requirePositive("retryBackoff max", max);
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("retryBackoff max (" + max + ") is shorter than initial (" + initial
                    + "): make max at least initial");
        }
        v.retryPolicy = v.retryPolicy.withDelays(initial, max);
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
    public ListenerBuilder retryPolicy(RetryPolicy policy) {
        v.retryPolicy = requireNonNull("retryPolicy", policy);
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
    public ListenerBuilder retryPolicy(String channel, RetryPolicy policy) {
        v.channelRetryPolicies.put(Names.requireChannel(channel), requireNonNull("retryPolicy", policy));
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
    public ListenerBuilder handlerTimeout(Duration timeout) {
        v.handlerTimeout = requirePositive("handlerTimeout", timeout);
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
    public ListenerBuilder handlerTimeout(String channel, Duration timeout) {
        v.channelHandlerTimeouts.put(Names.requireChannel(channel), requirePositive("handlerTimeout", timeout));
        return this;
    }

    /**
     * How long one of the library's own statements (a claim, a commit, a recovery read) may take: a
     * statement stuck behind a lock is cancelled, and one on a connection that went half-open is
     * aborted, and the claim is retried with backoff, instead of hanging; default 30 s. The bound is
     * kept by the listener (nothing is set on the database session). Handlers' statements are bounded
     * by the handler timeout.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException when {@code timeout} is null, zero or negative
     */
    public ListenerBuilder statementTimeout(Duration timeout) {
        v.statementTimeout = requirePositive("statementTimeout", timeout);
        return this;
    }

    /**
     * Payloads larger than this many bytes of JSON text are moved to the dead letters without
     * being loaded, so that a hand-inserted giant cannot exhaust the heap; default 8 MiB. See also
     * {@link #maxBatchBytes(long)}.
     *
     * @param bytes the largest payload to load, in bytes of JSON text; at least 1,024
     * @return this builder
     * @throws IllegalArgumentException when {@code bytes} is less than 1,024
     */
    public ListenerBuilder maxPayloadBytes(int bytes) {
        v.maxPayloadBytes = requireRange("maxPayloadBytes", bytes, 1_024, Integer.MAX_VALUE);
        return this;
    }

    /**
     * Payload bytes (of JSON text) one claim loads at most: a batch ends before its payloads would
     * pass this, but always holds at least one task. Memory for payloads is then at most about
     * {@code workers * max(maxBatchBytes, maxPayloadBytes)}; default 8 MiB.
     *
     * @param bytes at least 1,024
     * @return this builder
     * @throws IllegalArgumentException when {@code bytes} is less than 1,024
     */
    public ListenerBuilder maxBatchBytes(long bytes) {
        if (bytes < 1_024) {
            throw new IllegalArgumentException("maxBatchBytes is " + bytes + "; it must be at least 1024. The default is "
                    + Listener.DEFAULT_MAX_BATCH_BYTES + ".");
        }
        v.maxBatchBytes = bytes;
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
    public ListenerBuilder maxAbandonedThreads(int threads) {
        v.maxAbandonedThreads = requireRange("maxAbandonedThreads", threads, 0, 10_000);
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
    public ListenerBuilder outageLimit(Duration limit) {
        v.outageLimit = requirePositive("outageLimit", limit);
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
    public ListenerBuilder onFailure(Consumer<Throwable> callback) {
        v.onFailure = requireNonNull("onFailure", callback);
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
    public ListenerBuilder pollOnly(boolean pollOnly) {
        v.pollOnly = pollOnly;
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
    public ListenerBuilder listenPingInterval(Duration interval) {
        v.listenPingInterval = requirePositive("listenPingInterval", interval);
        return this;
    }

    /**
     * How often the listener upserts its heartbeat row (its state, whether LISTEN is on, start-up
     * recovery's progress, tasks done and failed) into the schema's {@code listener_heartbeat} table,
     * which the console's Listeners page and throughput chart read; default 10 s. A row expires
     * three intervals after its last write. {@link Duration#ZERO} writes none.
     *
     * @param interval a positive duration, or zero for no heartbeat
     * @return this builder
     * @throws IllegalArgumentException when {@code interval} is null or negative, or positive but under 1 s
     */
    public ListenerBuilder heartbeatInterval(Duration interval) {
        if (interval == null || interval.isNegative() || (!interval.isZero() && interval.compareTo(Duration.ofSeconds(1)) < 0)) {
            throw new IllegalArgumentException("heartbeatInterval is " + interval + "; pass at least 1 s (default "
                    + Listener.DEFAULT_HEARTBEAT_INTERVAL.toSeconds() + " s), or Duration.ZERO for no heartbeat");
        }
        v.heartbeatInterval = interval;
        return this;
    }

    /**
     * The safety-net poll interval; default 10 s.
     *
     * @param pollInterval how often every channel is checked for due rows; positive
     * @return this builder
     * @throws IllegalArgumentException when {@code pollInterval} is null, zero or negative
     */
    public ListenerBuilder pollInterval(Duration pollInterval) {
        v.pollInterval = requirePositive("pollInterval", pollInterval);
        return this;
    }

    /**
     * How long {@link Listener#close()} lets running handlers finish; default 30 s.
     *
     * @param shutdownGrace zero (roll back at once) or more
     * @return this builder
     * @throws IllegalArgumentException when {@code shutdownGrace} is null or negative
     */
    public ListenerBuilder shutdownGrace(Duration shutdownGrace) {
        if (shutdownGrace == null || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdownGrace is " + shutdownGrace + ": give zero or more, e.g. Duration.ofSeconds(30)");
        }
        v.shutdownGrace = shutdownGrace;
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
    public ListenerBuilder recoverOnStart(boolean recoverOnStart) {
        v.recoverOnStart = recoverOnStart;
        return this;
    }

    /**
     * Rows start-up recovery reads per round trip from its cursor; default {@value Listener#DEFAULT_RECOVERY_FETCH_SIZE}.
     *
     * @param fetchSize 1 to 100,000
     * @return this builder
     * @throws IllegalArgumentException when {@code fetchSize} is out of range
     */
    public ListenerBuilder recoveryFetchSize(int fetchSize) {
        v.recoveryFetchSize = requireRange("recoveryFetchSize", fetchSize, 1, 100_000);
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
    public ListenerBuilder onRecoveryProgress(Consumer<RecoveryProgress> observer) {
        if (observer == null) {
            throw new IllegalArgumentException("The recovery progress observer is null; leave it unset for none");
        }
        v.recoveryProgress = observer;
        return this;
    }

    /**
     * Told what the listener does, for metrics: claims, handler calls and their durations, commits,
     * failures, reconnects, and (if it asks) the depth of its channels' queues; default: none, at no
     * cost. For Micrometer, pass {@link dev.pgpubsub.listener.micrometer.PgPubSubMetrics}:
     * {@code .observer(PgPubSubMetrics.of(registry))}. What an observer throws is logged, not
     * passed on.
     *
     * @param observer told what the listener does
     * @return this builder
     * @throws IllegalArgumentException when {@code observer} is null (leave it unset for none)
     */
    public ListenerBuilder observer(ListenerObserver observer) {
        v.observer = requireNonNull("observer", observer);
        return this;
    }

    /**
     * Runs each handler in an observation of the Micrometer Observation API (an optional
     * dependency: {@code io.micrometer:micrometer-observation}); default: none, at no cost. The
     * observation, {@code pgpubsub.process}, is a consumer span when a tracer (OpenTelemetry or
     * Brave, through Micrometer Tracing) is bridged to the registry: it continues the trace the task
     * was published in (see {@code Publisher.Builder.observationRegistry}), or starts one. It is
     * current while the handler runs, so that the handler's own spans are its children, and until
     * the task's outcome is logged; with Micrometer Tracing at hand, the MDC holds its
     * {@code traceId}, {@code spanId} and {@code parentId} (the publisher's span) meanwhile.
     *
     * @param registry the registry to observe handlers in; the no-op registry turns tracing off
     * @return this builder
     * @throws IllegalArgumentException when {@code registry} is null (leave it unset for none)
     */
    public ListenerBuilder observationRegistry(ObservationRegistry registry) {
        v.tracing = ObservedTasks.of(registry);
        return this;
    }

    /**
     * Where the listener's transactions come from: an integration's, so that the data-access code a
     * handler calls joins the claim transaction (see {@link ClaimTransactions}); default: the
     * listener's own, on connections of its {@code DataSource}. Its connections must be connections
     * of the same database, user and pool as {@link #dataSource(DataSource)}'s (the listener checks
     * that pool's size and schema at start).
     *
     * @param transactions the integration's transactions
     * @return this builder
     * @throws IllegalArgumentException when {@code transactions} is null (leave it unset for the listener's own)
     */
    public ListenerBuilder claimTransactions(ClaimTransactions transactions) {
        v.claimTransactions = requireNonNull("claimTransactions", transactions);
        return this;
    }

    /**
     * The Jackson mapper for payloads; default: the library's, which ignores unknown properties. A
     * mapper of your own should ignore them too, or rows written by a newer publisher will not read
     * during a rolling deploy. The listener reads with a copy of it to which it adds its strict
     * records: a payload that lacks a record component goes to the dead letters unless the component
     * is an {@code Optional} or {@code @Nullable} (your mapper itself is not changed). Leave
     * {@code FAIL_ON_MISSING_CREATOR_PROPERTIES} and {@code FAIL_ON_NULL_CREATOR_PROPERTIES} off: the
     * first refuses missing {@code Optional} and {@code @Nullable} components too, the second any null.
     *
     * @param mapper the mapper to read payloads with
     * @return this builder
     * @throws IllegalArgumentException when {@code mapper} is null (leave it unset for the library's)
     */
    public ListenerBuilder jsonMapper(JsonMapper mapper) {
        v.mapper = requireNonNull("jsonMapper", mapper);
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
    public ListenerBuilder handlers(Object... beans) {
        for (Object bean : beans) {
            HandlerScanner.scan(bean).forEach(v.registry::add);
        }
        return this;
    }

    /**
     * Registers the {@link Listen} methods declared on {@code declaredOn}, called on {@code bean}: for
     * a bean that is a proxy (of a dependency-injection container, say), whose own class does not
     * carry the annotations, while its target class does. Every call goes through the proxy, so its
     * advice (transactions, metrics) applies. A proxy that subclasses {@code declaredOn} is called
     * through the annotated method itself; any other bean (an interface-based proxy, such as a
     * {@link java.lang.reflect.Proxy}) through its own public method of the same name and
     * parameters, so each handler method must then be declared by an interface the proxy implements.
     * The methods are checked as by {@link #handlers(Object...)}.
     *
     * @param bean       the object to call, e.g. the proxy
     * @param declaredOn the class whose (and whose superclasses') {@link Listen} methods to register,
     *                   e.g. the proxy's target class; {@code bean.getClass()} for a plain bean
     * @return this builder
     * @throws IllegalArgumentException when an argument is null or {@code declaredOn} is not a class,
     *                                  a method is refused, or {@code bean} cannot be called for one
     *                                  (it is no {@code declaredOn} and has no such public method)
     */
    public ListenerBuilder handler(Object bean, Class<?> declaredOn) {
        HandlerScanner.scan(bean, declaredOn).forEach(v.registry::add);
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
    public <P extends Record> ListenerBuilder on(Channel<P> channel, Handler<P> handler) {
        if (channel == null || handler == null) {
            throw new IllegalArgumentException("on(channel, handler) needs both: got channel " + channel + ", handler " + handler);
        }
        v.registry.add(new RegisteredHandler(channel.name(), channel.payloadType(), (Handler<Record>) handler,
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
    public ListenerBuilder channels(List<String> names) {
        v.onlyChannels = names == null ? null : List.copyOf(names);
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
    public <T> ListenerBuilder onRowChanges(String channel, Class<T> rowType, Handler<RowChange<T>> handler) {
        if (rowType == null || handler == null) {
            throw new IllegalArgumentException("onRowChanges(channel, rowType, handler) needs all three: got row type "
                    + rowType + ", handler " + handler);
        }
        v.registry.add(new RegisteredHandler(Names.requireChannel(channel), new RowChangeType(rowType),
                (Handler<Record>) (Handler<?>) handler, "onRowChanges(" + channel + ", " + rowType.getName() + ")"));
        return this;
    }

    /**
     * Publishes a recurring task at each slot of {@code schedule}, once across every listener that
     * declares it (see {@link Schedule}). The schedule's channel need not be one this listener serves.
     * Its slots are published by one timer thread, on a connection of the workers' pool borrowed for
     * each slot.
     *
     * @param schedule a schedule with its task ({@code Schedule.cron(...).publish(channel, payload)})
     * @return this builder
     * @throws IllegalArgumentException when it is null, has no task, or its name is taken by another
     *                                  schedule of this listener
     */
    public ListenerBuilder schedule(Schedule schedule) {
        requireNonNull("schedule", schedule);
        if (schedule.channel() == null) {
            throw new IllegalArgumentException("Schedule '" + schedule.name() + "' has no task: add one with "
                    + ".publish(channel, payload)");
        }
        if (v.schedules.containsKey(schedule.name())) {
            throw new IllegalArgumentException("Two schedules are named '" + schedule.name() + "': "
                    + v.schedules.get(schedule.name()).definition() + " and " + schedule.definition()
                    + ". Give each its own name.");
        }
        v.schedules.put(schedule.name(), new ScheduleSpec(schedule.name(), schedule.definition(), schedule.slots(),
                schedule.channel(), schedule.payload(), schedule.catchesUp()));
        return this;
    }

    /** The clock schedules' slots are computed with; for tests. */
    ListenerBuilder clock(java.time.Clock clock) {
        v.clock = requireNonNull("clock", clock);
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
        return new Listener(ListenerConfig.validate(v));
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
