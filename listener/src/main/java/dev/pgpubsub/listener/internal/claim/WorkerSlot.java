package dev.pgpubsub.listener.internal.claim;

import java.sql.Connection;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What one thread running handlers is doing, for the watchdog: its connection, the batch in its
 * open transaction and the task whose handler is running. Written by its thread, read by the
 * watchdog; once abandoned (its handler overran its timeout), the thread touches nothing any more.
 */
final class WorkerSlot {

    /**
     * The handler call in progress.
     *
     * @param taskId   the task
     * @param attempt  its attempt
     * @param channel  its channel
     * @param deadline {@link System#nanoTime()} after which it has overrun
     * @param timeoutMillis the timeout, for messages
     */
    record Call(long taskId, int attempt, String channel, long deadline, long timeoutMillis) {
    }

    /** Thrown on an abandoned thread once its handler returns: unwinds without touching the database. */
    static final class Abandoned extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Abandoned() {
            super("this worker was abandoned after its handler overran its timeout", null, false, false);
        }
    }

    final Thread thread;
    /** 1.. for the pool's workers (a replacement takes the same number), 0 for start-up recovery's threads. */
    final int workerNumber;
    /** Called instead of starting a replacement when a recovery thread is abandoned; may be null. */
    final Runnable onAbandoned;
    private final AtomicBoolean abandoned = new AtomicBoolean();
    private volatile Connection connection;
    private volatile long[] batch;
    private volatile Call call;

    WorkerSlot(Thread thread, int workerNumber, Runnable onAbandoned) {
        this.thread = thread;
        this.workerNumber = workerNumber;
        this.onAbandoned = onAbandoned;
    }

    void use(Connection c) {
        connection = c;
        batch = null;
    }

    Connection connection() {
        return connection;
    }

    void batch(long[] ids) {
        batch = ids;
    }

    long[] batch() {
        return batch;
    }

    void calling(Call running) {
        call = running;
    }

    Call call() {
        return call;
    }

    /** Marks the slot abandoned; true for the one caller that did it. */
    boolean abandon() {
        return abandoned.compareAndSet(false, true);
    }

    boolean abandoned() {
        return abandoned.get();
    }

    /** Throws {@link Abandoned} if the watchdog gave up on this thread. */
    void checkNotAbandoned() {
        if (abandoned.get()) {
            throw new Abandoned();
        }
    }
}
