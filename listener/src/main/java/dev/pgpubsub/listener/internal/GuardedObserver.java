package dev.pgpubsub.listener.internal;

import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.RecoveryProgress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application's observer, whose failures are logged (the first one as a warning, the rest at
 * debug) and never reach the claim path: a metrics bug must not fail a batch.
 */
final class GuardedObserver implements ListenerObserver {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedObserver.class);

    private final ListenerObserver delegate;
    private final AtomicBoolean warned = new AtomicBoolean();

    GuardedObserver(ListenerObserver delegate) {
        this.delegate = delegate;
    }

    private void failed(RuntimeException e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("The listener's observer threw; it is ignored (further failures are logged at debug)", e);
        } else {
            LOG.debug("The listener's observer threw", e);
        }
    }

    @Override
    public void attached(Listener listener) {
        try {
            delegate.attached(listener);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void detached(Listener listener) {
        try {
            delegate.detached(listener);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void claimed(String channel, int tasks) {
        try {
            delegate.claimed(channel, tasks);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void handlerStarting(String channel, long lagNanos) {
        try {
            delegate.handlerStarting(channel, lagNanos);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void handlerReturned(String channel, boolean succeeded, long nanos) {
        try {
            delegate.handlerReturned(channel, succeeded, nanos);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void handlerTimedOut(String channel, long nanos) {
        try {
            delegate.handlerTimedOut(channel, nanos);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void failed(String channel) {
        try {
            delegate.failed(channel);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void committed(String channel, int succeeded, int retried, int deadLettered) {
        try {
            delegate.committed(channel, succeeded, retried, deadLettered);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void recovered(String channel, long tasks) {
        try {
            delegate.recovered(channel, tasks);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void recoveryProgress(RecoveryProgress progress) {
        try {
            delegate.recoveryProgress(progress);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public void reconnected() {
        try {
            delegate.reconnected();
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    @Override
    public Duration queueDepthInterval() {
        return delegate.queueDepthInterval();
    }

    @Override
    public int queueDepthCap() {
        return delegate.queueDepthCap();
    }

    @Override
    public void queueDepths(List<QueueDepth> depths) {
        try {
            delegate.queueDepths(depths);
        } catch (RuntimeException e) {
            failed(e);
        }
    }
}
