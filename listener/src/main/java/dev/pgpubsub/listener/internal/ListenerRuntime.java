package dev.pgpubsub.listener.internal;

import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.core.internal.SqlStates;
import dev.pgpubsub.listener.ClaimTransactions;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerHealth;
import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.ListenerStats;
import dev.pgpubsub.listener.RecoveryProgress;
import dev.pgpubsub.listener.Schedule;
import dev.pgpubsub.listener.internal.claim.ClaimMetrics;
import dev.pgpubsub.listener.internal.claim.ClaimStatements;
import dev.pgpubsub.listener.internal.claim.DataSourceTransactions;
import dev.pgpubsub.listener.internal.claim.WorkerPool;
import dev.pgpubsub.listener.internal.notifier.ListenSession;
import dev.pgpubsub.listener.internal.recovery.Recovery;
import dev.pgpubsub.listener.internal.schedule.Scheduler;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running listener, and the order things happen in. Start: worker connections (checked), the
 * worker pool, LISTEN, then start-up recovery or the claim loop, with one scan of every channel
 * after LISTEN is on. Stop: LISTEN off, workers and recovery's chunks finish within the grace period
 * (the rest is released and rolled back), recovery's cursor closes, connections close.
 */
public final class ListenerRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerRuntime.class);

    private final ListenerConfig config;
    private final String name;
    private final Listener owner;
    private final ListenerObserver observer;
    private final LongAdder wakeUps = new LongAdder();
    private final LongAdder reconnects = new LongAdder();
    private WorkerConnections connections;
    // Volatile, so that stats() reads them without waiting for a start() that blocks in an outage.
    private volatile ListenSession listenSession;
    private volatile WorkerPool workers;
    private Thread recovery;
    private QueueDepthSampler queueDepths;
    private HeartbeatWriter heartbeat;
    // The last progress start-up recovery reported, for the heartbeat; null if it never ran.
    private volatile RecoveryProgress recoveryProgress;
    private Scheduler scheduler;
    private volatile boolean recovering;
    private volatile Throwable failure;
    private volatile State state = State.NEW;
    // What health() reads besides the stats; volatile, as they are, so that it never waits either.
    private final HealthRules healthRules;
    private volatile Instant startedAt;
    private volatile String startProblem;
    private volatile boolean serving;
    private volatile String stopReason;
    private volatile boolean closed;

    /** How much longer than the grace a stop may take before its log line says where the time went. */
    private static final Duration SLOW_CLOSE_MARGIN = Duration.ofSeconds(2);

    private enum State { NEW, RUNNING, CLOSED }

    /**
     * A runtime for {@code config}, not started.
     *
     * @param config the sealed settings
     * @param name   names the threads, connections and log lines, e.g. {@code pgpubsub-1}
     * @param owner  the listener, as its observer is told of it
     */
    public ListenerRuntime(ListenerConfig config, String name, Listener owner) {
        this.config = config;
        this.name = name;
        this.owner = owner;
        this.observer = config.observer();
        this.healthRules = new HealthRules(config.workers(), config.channels().size(), config.pollOnly(),
                config.pollInterval(), config.outageLimit(), config.shutdownGrace());
    }

    /**
     * Connects, LISTENs, then claims what is already due and from then on whatever a wake-up, a due
     * time or the safety-net poll announces.
     *
     * @param transactions where claim transactions come from; null for connections of the worker pool
     */
    public synchronized void start(ClaimTransactions transactions) {
        if (state != State.NEW) {
            throw new IllegalStateException("This listener was already started; build a new one to start again");
        }
        state = State.RUNNING;
        startedAt = Instant.now();
        observer.attached(owner);
        long startedAt = System.nanoTime();
        try {
            connections = whileStarting(startedAt, "connect", () -> {
                WorkerConnections opened = WorkerConnections.open(config.dataSource(), config.jdbcUrl(), config.user(),
                        config.password(), config.workers(), !config.schedules().isEmpty(), name);
                try {
                    opened.check(config.workers(), !config.schedules().isEmpty(), config.schema());
                    return opened;
                } catch (SQLException | RuntimeException e) {
                    opened.close();
                    throw e;
                }
            });
            workers = new WorkerPool(new WorkerPool.Settings(name, config.workers(), config.batchSize(), config.policies(),
                    config.shutdownGrace(), config.maxPayloadBytes(), config.maxBatchBytes(), config.statementTimeout(),
                    config.maxAbandonedThreads(), config.outageLimit(), this::giveUp),
                    transactions != null ? transactions : new DataSourceTransactions(connections.dataSource()),
                    new ClaimStatements(config.schema()), config.handlers(),
                    config.mapper() == null ? PayloadCodec.standard() : PayloadCodec.using(config.mapper()), observer,
                    config.tracing());
            // LISTEN first, then scan: whatever is published from here on wakes us, and the first scan
            // (wakeAll in serve) finds everything published before.
            if (!config.pollOnly()) {
                Map<String, String> byWakeup = new LinkedHashMap<>();
                config.channels().forEach(channel -> byWakeup.put(Names.wakeupChannel(config.schema(), channel), channel));
                WorkerPool pool = workers;
                listenSession = new ListenSession(this::openListenConnection, byWakeup, channel -> {
                    wakeUps.increment();
                    pool.wake(channel);
                }, () -> {
                    reconnects.increment();
                    observer.reconnected();
                    pool.wakeAll();
                }, name, config.listenPingInterval(), config.outageLimit(), this::giveUp);
                ListenSession session = listenSession;
                whileStarting(startedAt, "LISTEN", () -> {
                    session.start();
                    return null;
                });
            }
            LOG.info("Listener {} started: {}", name, config.describe());
            startQueueDepths();
            startSchedules();
            if (config.recoverOnStart()) {
                recovering = true; // before the thread starts, so that stats() never shows a gap
                recovery = Threads.start(name + "-recovery-cursor", this::recoverThenServe);
            } else {
                serve();
            }
            serving = true;
            startHeartbeat();
        } catch (SQLException e) {
            stopReason = "the start failed: " + WorkerConnections.rootMessage(e);
            close();
            throw new PgPubSubException("Listener could not start: " + WorkerConnections.rootMessage(e) + ". Check the JDBC "
                    + "URL, user and password, and that the database is reachable.", e);
        } catch (RuntimeException e) {
            stopReason = "the start failed: " + (e.getMessage() != null ? e.getMessage() : e.getClass().getName());
            close();
            throw e;
        }
    }

    /** A step of start-up: what it returns. */
    @FunctionalInterface
    private interface Step<T> {
        T run() throws SQLException;
    }

    /**
     * Runs a step of start-up, and runs it again while it fails in a way that passes on its own (the
     * server is down, starting, stopping or full: {@link SqlStates#isTransient}) until the outage
     * limit, counted from the start, is spent; like any later outage. Anything else (a wrong password,
     * an unknown database, pgpubsub not installed) fails at once.
     */
    private <T> T whileStarting(long startedAt, String what, Step<T> step) throws SQLException {
        for (int attempt = 1;; attempt++) {
            try {
                return step.run();
            } catch (SQLException | RuntimeException e) {
                long left = config.outageLimit().toNanos() - (System.nanoTime() - startedAt);
                if (!SqlStates.isTransient(e) || left <= 0) {
                    if (attempt > 1) {
                        LOG.error("Listener {}: could not {} for {} ({} attempts); giving up", name, what,
                                Durations.describe(config.outageLimit()), attempt);
                    }
                    throw e;
                }
                long wait = Math.min(Backoff.DATABASE.millis(attempt), TimeUnit.NANOSECONDS.toMillis(left) + 1);
                startProblem = WorkerConnections.rootMessage(e);
                LOG.warn("Listener {}: could not {} ({}); trying again in {} ms, for at most {} in all", name, what,
                        WorkerConnections.rootMessage(e), wait, Durations.describe(config.outageLimit()));
                LOG.debug("Start-up failure", e);
                try {
                    Thread.sleep(wait); // the backoff between attempts: bounded by the outage limit
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new PgPubSubException("Listener start was interrupted while the database was unreachable", e);
                }
            }
        }
    }

    /**
     * LISTEN is already on, so nothing published from now on is missed: wake-ups that arrive during
     * recovery wait in the wake queue (each channel once) for the claim loop that starts after it.
     */
    private void recoverThenServe() {
        try {
            recover();
            serve();
        } finally {
            recovering = false; // after serve(): health() never sees recovery over and no worker running yet
        }
    }

    private void recover() {
        try {
            new Recovery(new Recovery.Settings(config.schema(), config.channels(), config.recoveryFetchSize(),
                    config.batchSize(), config.workers(), name), connections.dataSource(), workers::runRecovered,
                    this::isRunning, progress -> {
                        recoveryProgress = progress;
                        config.recoveryProgress().accept(progress);
                        observer.recoveryProgress(progress);
                    }).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("Listener {}: start-up recovery stopped early ({}); the claim loop takes over the rest", name,
                    WorkerConnections.rootMessage(e));
            LOG.debug("Recovery failure", e);
        }
    }

    /**
     * Measures the queues for the observer, if it asks: on a thread of its own, under a statement
     * timeout of at most the listener's and half the interval.
     */
    private synchronized void startQueueDepths() {
        Duration interval = observer.queueDepthInterval();
        if (interval == null || interval.isZero() || interval.isNegative() || state != State.RUNNING) {
            return;
        }
        Duration timeout = config.statementTimeout();
        if (interval.dividedBy(2).compareTo(timeout) < 0) {
            timeout = Duration.ofMillis(Math.max(1, interval.dividedBy(2).toMillis()));
        }
        queueDepths = new QueueDepthSampler(connections.dataSource(), config.schema(), config.channels(),
                Math.max(1, observer.queueDepthCap()), timeout, observer, name, () -> recovering);
        queueDepths.start(interval);
    }

    /**
     * Writes the heartbeat row, unless turned off: on a thread of its own, under a statement timeout
     * of at most the listener's and half the interval. The first beat is written at once.
     */
    private synchronized void startHeartbeat() {
        Duration interval = config.heartbeatInterval();
        if (interval.isZero() || state != State.RUNNING) {
            return;
        }
        Duration timeout = config.statementTimeout();
        if (interval.dividedBy(2).compareTo(timeout) < 0) {
            timeout = interval.dividedBy(2);
        }
        heartbeat = new HeartbeatWriter(connections.dataSource(), config.schema(), name, config.channels(), startedAt,
                interval, timeout, () -> beat(null));
        heartbeat.start();
    }

    /**
     * What the heartbeat says now: the state from the health's status and phase, as in
     * {@link #health()}; {@code stopped} after close.
     */
    private HeartbeatWriter.Beat beat(String forced) {
        ListenerStats stats = stats();
        String beatState = forced;
        if (beatState == null) {
            ListenerHealth health = health();
            State s = state;
            if (s == State.CLOSED || failure != null) {
                beatState = "stopping";
            } else if (!serving) {
                beatState = "starting";
            } else if (recovering) {
                beatState = "recovering";
            } else if (health.status() != ListenerHealth.Status.UP) {
                beatState = "degraded";
            } else {
                beatState = "running";
            }
        }
        RecoveryProgress progress = recoveryProgress;
        return new HeartbeatWriter.Beat(beatState, forced == null && stats.listening(),
                progress == null ? null : progress.rowsDone(), progress == null ? null : progress.estimatedRows(),
                stats.tasksDone(), stats.tasksFailed());
    }

    /** Publishes the schedules' slots, on a timer thread of its own, under the listener's statement timeout. */
    private synchronized void startSchedules() {
        if (config.schedules().isEmpty() || state != State.RUNNING) {
            return;
        }
        scheduler = new Scheduler(connections.dataSource(), config.schema(), config.schedules(), Schedule.GRACE,
                config.statementTimeout(), config.clock(), name);
        scheduler.start();
    }

    /** Starts the claim loop, and queues every channel once: the scan after LISTEN. */
    private void serve() {
        if (isRunning()) {
            workers.start(config.pollInterval());
            workers.wakeAll();
        }
    }

    private synchronized boolean isRunning() {
        return state == State.RUNNING;
    }

    /**
     * The listener cannot go on (the database stayed unusable for too long, or no worker is left):
     * close, and tell whoever asked to know.
     */
    private void giveUp(Throwable cause) {
        String reason = healthRules.stopped(outageSince(), cause, Instant.now()); // before the lock: it takes the session's
        synchronized (this) {
            if (failure != null || state != State.RUNNING) {
                return;
            }
            stopReason = reason; // before failure, which health() reads first
            failure = cause;
        }
        LOG.error("Listener {} is stopping: {}", name, cause.getMessage(), cause);
        Threads.start(name + "-give-up", () -> {
            close();
            try {
                config.onFailure().accept(cause);
            } catch (RuntimeException e) {
                LOG.warn("The onFailure callback threw", e);
            }
        });
    }

    /**
     * Why the listener stopped by itself, if it did.
     *
     * @return the cause, or empty
     */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Counters since start; all zero before. Never waits, not even for a start that is blocked in an
     * outage.
     *
     * @return a snapshot
     */
    public ListenerStats stats() {
        WorkerPool pool = workers;
        ListenSession session = listenSession;
        boolean running = state == State.RUNNING && failure == null;
        ClaimMetrics.Snapshot c = pool == null ? new ClaimMetrics(ListenerObserver.NONE).snapshot() : pool.counters();
        boolean listening = running && session != null && session.connected();
        Instant outageSince = null;
        if (running) {
            outageSince = HealthRules.earliest(session == null ? null : session.lostSince(), pool == null ? null : pool.outageSince());
        }
        return new ListenerStats(wakeUps.sum(), c.turns(), c.batches(), c.done(), c.failed(), c.recovered(), c.timeouts(),
                c.deadLettered(), pool == null ? 0 : pool.abandonedThreads(), recovering, listening, outageSince,
                running && pool != null ? pool.liveWorkers() : 0, reconnects.sum());
    }

    /** When the ongoing outage began: the LISTEN connection lost, or claims failing; null while the database answers. */
    private Instant outageSince() {
        ListenSession session = listenSession;
        WorkerPool pool = workers;
        return HealthRules.earliest(session == null ? null : session.lostSince(), pool == null ? null : pool.outageSince());
    }

    /**
     * Whether the listener serves its channels, and why (or why not). Never waits, as {@link #stats()}.
     *
     * @return the health now
     */
    public ListenerHealth health() {
        State s = state;
        WorkerPool pool = workers;
        ListenSession session = listenSession;
        HealthRules.Phase phase;
        if (failure != null || (s == State.CLOSED && stopReason != null)) {
            phase = HealthRules.Phase.FAILED;
        } else if (s == State.NEW) {
            phase = HealthRules.Phase.NEW;
        } else if (s == State.CLOSED) {
            phase = closed ? HealthRules.Phase.CLOSED : HealthRules.Phase.STOPPING;
        } else {
            phase = serving ? HealthRules.Phase.SERVING : HealthRules.Phase.STARTING;
        }
        return healthRules.judge(new HealthRules.Facts(phase, startedAt, startProblem, stopReason,
                session == null ? null : session.lostSince(), pool == null ? null : pool.outageSince(), recovering,
                pool == null ? 0 : pool.liveWorkers(), pool == null ? 0 : pool.abandonedThreads()), Instant.now());
    }

    /** Stops claiming, lets running handlers finish within the grace period, rolls back the rest, closes everything. */
    public void close() {
        Thread recoveryThread;
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED; // recovery stops reading its cursor, and submits no more chunks
            recoveryThread = recovery;
        }
        long began = System.nanoTime();
        long[] marks = new long[4];
        QueueDepthSampler sampler;
        Scheduler schedules;
        HeartbeatWriter beats;
        synchronized (this) {
            sampler = queueDepths;
            schedules = scheduler;
            beats = heartbeat;
        }
        if (schedules != null) {
            schedules.close();
        }
        if (sampler != null) {
            sampler.close();
        }
        marks[0] = System.nanoTime();
        ListenSession session;
        WorkerPool pool;
        synchronized (this) {
            session = listenSession;
            pool = workers;
        }
        if (session != null) {
            session.close();
        }
        if (pool != null) {
            pool.close(); // the workers' and recovery's batches finish within the grace, or are released
        }
        marks[1] = System.nanoTime();
        if (recoveryThread != null && recoveryThread != Thread.currentThread()) {
            try {
                recoveryThread.join(Duration.ofSeconds(10).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (beats != null) {
            beats.close(beat("stopped")); // it beat "stopping" until now; the last beat, before the pool closes
        }
        marks[2] = System.nanoTime();
        synchronized (this) {
            if (connections != null) {
                connections.close();
            }
        }
        marks[3] = System.nanoTime();
        observer.detached(owner);
        closed = true;
        logClosed(began, marks);
    }

    /** A stop that outlasts the grace by much says which part took the time. */
    private void logClosed(long began, long[] marks) {
        Duration took = Duration.ofNanos(marks[3] - began);
        if (took.compareTo(config.shutdownGrace().plus(SLOW_CLOSE_MARGIN)) <= 0) {
            LOG.info("Listener {} closed", name);
            return;
        }
        LOG.warn("Listener {} closed in {} ms, more than its {} grace: schedules and sampler {} ms, LISTEN and workers {} ms,"
                + " start-up recovery {} ms, connections {} ms", name, took.toMillis(), config.shutdownGrace(),
                millis(marks[0] - began), millis(marks[1] - marks[0]), millis(marks[2] - marks[1]),
                millis(marks[3] - marks[2]));
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /**
     * The LISTEN connection: the URL's hosts are tried in order, and one that is down, fails its
     * first query or is a standby (in recovery, where LISTEN is refused) is skipped. When the URL asks
     * for TLS, pgjdbc-ng is told to use it (and verify the server as asked); a session that has none
     * all the same is closed and refused.
     */
    private Connection openListenConnection() throws SQLException {
        DatabaseAddress address = DatabaseAddress.parse(config.jdbcUrl());
        Properties props = address.listenProperties(config.user(), config.password());
        props.setProperty("application.name", SessionNames.of(name, "listen"));
        List<String> skipped = new ArrayList<>();
        SQLException reported = null;
        for (DatabaseAddress.Host host : address.hosts()) {
            Connection c = null;
            try {
                c = DriverManager.getConnection(address.pgjdbcNgUrl(host), props);
                boolean standby;
                boolean tls;
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), "
                                + "coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)")) {
                    rs.next();
                    standby = rs.getBoolean(1);
                    tls = rs.getBoolean(2);
                }
                if (address.requiresTls() && !tls) {
                    c.close();
                    throw new PgPubSubException("The LISTEN connection to " + host + " has no TLS, but the JDBC URL asks for "
                            + "it (sslmode); it was closed. Check the server's ssl setting and the URL's sslmode.");
                }
                if (!standby) {
                    if (!skipped.isEmpty()) {
                        LOG.info("Listener {}: LISTENing on {}; skipped {}", name, host, String.join(", ", skipped));
                    }
                    return c;
                }
                c.close();
                skipped.add(host + " (a standby, in recovery: LISTEN needs the primary)");
                reported = worse(reported, new SQLException(host + " is a standby", "08001"));
            } catch (SQLException e) {
                if (c != null) {
                    c.close();
                }
                if (address.hosts().size() == 1) {
                    throw e;
                }
                skipped.add(host + " (" + WorkerConnections.rootMessage(e) + ")");
                reported = worse(reported, e);
            }
        }
        throw new SQLException("No host of the JDBC URL is a primary that answers: " + String.join("; ", skipped),
                reported.getSQLState(), reported);
    }

    /**
     * Of two hosts' failures, the one to report: one that may pass (a host down, a standby that may
     * be promoted) wins, so that start-up and reconnects keep trying while any host may come back.
     */
    private static SQLException worse(SQLException so, SQLException far) {
        if (so == null) {
            return far;
        }
        return SqlStates.isTransient(so) || !SqlStates.isTransient(far) ? so : far;
    }
}
