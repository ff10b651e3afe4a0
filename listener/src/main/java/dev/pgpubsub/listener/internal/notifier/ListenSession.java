package dev.pgpubsub.listener.internal.notifier;

import dev.pgpubsub.listener.internal.Backoff;
import dev.pgpubsub.listener.internal.Threads;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a LISTEN connection up: when it closes under us (a server restart, a terminated session, a
 * cut network), it reconnects with exponential backoff and jitter (100 ms doubling up to 30 s),
 * LISTENs again, and then asks for a scan, because whatever was published while it was down sent
 * its wake-up to nobody. If it stays down for longer than the outage limit, it gives up and says so.
 */
public final class ListenSession implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ListenSession.class);

    private final Notifier.ConnectionOpener opener;
    private final Map<String, String> channelsByWakeup;
    private final Consumer<String> onWake;
    private final Runnable afterReconnect;
    private final ScheduledExecutorService reconnector;
    private final Duration pingInterval;
    private final Duration outageLimit;
    private final Consumer<Throwable> onGiveUp;
    /** {@link System#nanoTime()} when the connection was lost; meaningful while reconnecting. */
    private volatile long lostAt;
    private Notifier current;
    private boolean started;
    private boolean closed;

    /**
     * A session that LISTENs to {@code channelsByWakeup} (wake-up name to channel), hands wake-ups
     * to {@code onWake} (on pgjdbc-ng's I/O thread: it must not block), and calls
     * {@code afterReconnect} once LISTEN is back after a loss; if reconnecting keeps failing for
     * longer than {@code outageLimit}, it stops trying and tells {@code onGiveUp}.
     */
    public ListenSession(Notifier.ConnectionOpener opener, Map<String, String> channelsByWakeup, Consumer<String> onWake,
            Runnable afterReconnect, String name, Duration pingInterval, Duration outageLimit, Consumer<Throwable> onGiveUp) {
        this.pingInterval = pingInterval;
        this.outageLimit = outageLimit;
        this.onGiveUp = onGiveUp;
        this.opener = opener;
        this.channelsByWakeup = Map.copyOf(channelsByWakeup);
        this.onWake = onWake;
        this.afterReconnect = afterReconnect;
        this.reconnector = Executors.newSingleThreadScheduledExecutor(Threads.factory(name + "-reconnect", false));
    }

    /**
     * Connects and LISTENs (a failure here is reported to the caller, not retried), and starts the
     * periodic round trip that finds a half-open connection: one that never closes, but on which
     * nothing arrives any more.
     */
    public void start() throws SQLException {
        // Connected outside the lock: connected() and lostSince() (health checks) must not wait for the
        // database. A loss before the assignment below goes unheard, as in reconnect(): the ping finds it.
        Notifier notifier = connect();
        synchronized (this) {
            if (closed) {
                notifier.close();
                return;
            }
            current = notifier;
            started = true;
        }
        long every = pingInterval.toMillis();
        try {
            reconnector.scheduleWithFixedDelay(this::ping, every, every, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    private void ping() {
        Notifier notifier;
        synchronized (this) {
            notifier = current;
        }
        int timeoutSeconds = (int) Math.max(1, Math.min(pingInterval.toSeconds(), 10));
        if (notifier != null && !notifier.ping(timeoutSeconds)) {
            LOG.warn("The LISTEN connection did not answer a round trip within {} s; replacing it", timeoutSeconds);
            synchronized (this) {
                if (current == notifier) {
                    current = null;
                    lostAt = System.nanoTime();
                }
            }
            notifier.close(); // its closed() callback may or may not come; reconnect either way
            if (!isClosed()) {
                schedule(0);
            }
        }
    }

    /** A new LISTEN connection whose loss is reported with its own identity. */
    private Notifier connect() throws SQLException {
        AtomicReference<Notifier> self = new AtomicReference<>();
        Notifier notifier = Notifier.listen(opener, channelsByWakeup, onWake, () -> lost(self.get()));
        self.set(notifier);
        return notifier;
    }

    private void lost(Notifier which) {
        synchronized (this) {
            if (closed || which == null || current != which) {
                return; // closed by us, or a connection already replaced
            }
            current = null;
            lostAt = System.nanoTime();
        }
        LOG.warn("The LISTEN connection was lost; reconnecting (wake-ups sent meanwhile are recovered by a scan)");
        schedule(0);
    }

    private void schedule(int attempt) {
        long delay = Backoff.DATABASE.millis(attempt);
        try {
            reconnector.schedule(() -> reconnect(attempt), delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    private void reconnect(int attempt) {
        if (isClosed()) {
            return;
        }
        Notifier notifier;
        try {
            notifier = connect();
        } catch (SQLException | RuntimeException e) {
            if (System.nanoTime() - lostAt > outageLimit.toNanos()) {
                LOG.error("The LISTEN connection could not be restored within {} ({} attempts); giving up: {}", outageLimit,
                        attempt + 1, e.toString());
                LOG.debug("The last failure", e);
                onGiveUp.accept(e);
                return;
            }
            LOG.warn("Reconnecting the LISTEN connection failed (attempt {}): {}", attempt + 1, e.toString());
            LOG.debug("Reconnect failure", e);
            schedule(attempt + 1);
            return;
        }
        synchronized (this) {
            if (closed) {
                notifier.close();
                return;
            }
            current = notifier;
        }
        LOG.info("The LISTEN connection is back after {} attempt(s); scanning for what was published meanwhile", attempt + 1);
        afterReconnect.run();
    }

    /**
     * Whether the LISTEN connection is up: started, not lost, not closed.
     *
     * @return true while LISTENing
     */
    public synchronized boolean connected() {
        return current != null && !closed;
    }

    /**
     * When the LISTEN connection was lost, while it is being restored.
     *
     * @return the start of the loss, or null while connected (and before the start, and after the close)
     */
    public Instant lostSince() {
        long lost;
        synchronized (this) {
            if (current != null || closed || !started) {
                return null;
            }
            lost = lostAt;
        }
        return Instant.now().minusNanos(System.nanoTime() - lost);
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        Notifier notifier;
        synchronized (this) {
            closed = true;
            notifier = current;
            current = null;
        }
        reconnector.shutdownNow();
        if (notifier != null) {
            notifier.close();
        }
    }
}
