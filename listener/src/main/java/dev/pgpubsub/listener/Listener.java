package dev.pgpubsub.listener;

import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.listener.internal.ListenerConfig;
import dev.pgpubsub.listener.internal.ListenerRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

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
    /** How long one of the library's own statements may take by default. */
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
    /** How often a listener writes its heartbeat row (what the console's Listeners page reads) by default. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);
    /** Payload bytes one claim loads at most by default (but always its first task): 8 MiB. */
    public static final long DEFAULT_MAX_BATCH_BYTES = 8L << 20;
    /** Rows start-up recovery reads from its cursor per round trip by default. */
    public static final int DEFAULT_RECOVERY_FETCH_SIZE = 500;

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final ListenerConfig config;
    private final ListenerRuntime runtime;

    Listener(ListenerConfig config) {
        this.config = config;
        this.runtime = new ListenerRuntime(config, "pgpubsub-" + INSTANCES.incrementAndGet(), this);
    }

    /**
     * A builder; {@link ListenerBuilder#build()} checks every setting and handler.
     *
     * @return a builder with every setting at its default and no handlers
     */
    public static ListenerBuilder builder() {
        return new ListenerBuilder();
    }

    /**
     * The channels this listener serves, in registration order.
     *
     * @return the channel names
     */
    public List<String> channels() {
        return config.channels();
    }

    /**
     * Counters since start (all zero before), whether the LISTEN connection is up, and whether the
     * listener is in an outage ({@link ListenerStats#outageSince()}). Never blocks, not even while
     * {@link #start()} waits for the database: a health check may call it at any time.
     *
     * @return a snapshot of the counters
     */
    public ListenerStats stats() {
        return runtime.stats();
    }

    /**
     * Whether this listener serves its channels, with the reason as a sentence, for health checks and
     * readiness probes. Never blocks and asks the database nothing, so it answers during an outage and
     * while {@link #start()} waits for the database.
     * <ul>
     *   <li>{@link ListenerHealth.Status#DOWN DOWN}: not started, still starting (e.g. waiting for the
     *       database), stopping or closed; stopped by itself ({@link #failure()}); or the database has
     *       been unusable for longer than the outage limit ({@link ListenerBuilder#outageLimit}).</li>
     *   <li>{@link ListenerHealth.Status#DEGRADED DEGRADED}: the LISTEN connection is lost and being
     *       restored (the poll finds due tasks meanwhile), claims fail in an outage shorter than the
     *       outage limit, start-up recovery is draining the backlog, or fewer workers run than
     *       configured (hung handlers were abandoned and not replaced).</li>
     *   <li>{@link ListenerHealth.Status#UP UP} otherwise; a {@link ListenerBuilder#pollOnly poll-only}
     *       listener too, since polling is what it was configured to do.</li>
     * </ul>
     *
     * @return the health now
     */
    public ListenerHealth health() {
        return runtime.health();
    }

    /**
     * Why this listener stopped by itself, if it did: the database stayed unusable for longer than
     * its outage limit ({@link ListenerBuilder#outageLimit}), or no worker was left (handlers that
     * hang used up {@link ListenerBuilder#maxAbandonedThreads}). Empty while it runs, and after a
     * {@link #close()}.
     *
     * @return the cause of the stop, or empty
     */
    public Optional<Throwable> failure() {
        return runtime.failure();
    }

    /**
     * Connects, LISTENs to its channels, then claims what is already due and from then on whatever a
     * wake-up, a due time or the safety-net poll announces. While the database is down, starting,
     * stopping or out of connections, it blocks and tries again with backoff, for at most the outage
     * limit ({@link ListenerBuilder#outageLimit}); a wrong password, an unknown database or host, a TLS
     * failure or a missing schema fail at once.
     *
     * @throws PgPubSubException when the database stayed unreachable for the outage limit, refused the
     *                           login, does not exist, pgpubsub is not installed, or
     *                           the worker pool is too small (the message says which and what to do)
     * @throws IllegalStateException when it was started before
     */
    public void start() {
        runtime.start(config.claimTransactions());
    }

    /**
     * Stops claiming, lets running handlers finish within the shutdown grace period, rolls back the
     * rest (their tasks are due again at once, not charged an attempt), and closes every connection
     * and thread. It returns about a second after the grace at most, even when a handler ignores the
     * interrupt (that thread runs on, outside any transaction). Idempotent.
     */
    @Override
    public void close() {
        runtime.close();
    }
}
