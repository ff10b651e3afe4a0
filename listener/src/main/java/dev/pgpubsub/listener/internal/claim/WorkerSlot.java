package dev.pgpubsub.listener.internal.claim;

import java.sql.Connection;
import java.sql.Statement;

/**
 * What one thread that claims and runs tasks is doing, for the watchdog: its claim transaction's
 * connection and id, the rows it holds, the handler call in progress, or the library statement in
 * progress. Written by its thread, read by the watchdog; once abandoned (its handler overran its
 * timeout, or the listener shut down), the thread touches nothing any more. The transitions the
 * two race on (a call ending or timing out, a statement ending or being cancelled) are made under
 * the slot's lock, so that exactly one side wins.
 */
final class WorkerSlot {

    /**
     * The handler call in progress.
     *
     * @param taskId        the task
     * @param attempt       its attempt
     * @param channel       its channel
     * @param deadline      {@link System#nanoTime()} after which it has overrun
     * @param timeoutMillis the timeout, for messages
     */
    record Call(long taskId, int attempt, String channel, long deadline, long timeoutMillis) {
        /** What the task's claim release says when the call overran its timeout. */
        String timedOutError() {
            return "handler timed out after " + timeoutMillis + " ms (attempt " + attempt + "); its transaction was aborted";
        }
    }

    /**
     * A statement of the library's own in progress, or a commit (no statement).
     *
     * @param statement the statement, to cancel; null for a commit or a connection call
     * @param deadline  {@link System#nanoTime()} after which it has overrun
     * @param timeout   how long it was given, in nanoseconds
     * @param stage     0 running, 1 cancelled by the watchdog, 2 its connection aborted
     */
    record Library(Statement statement, long deadline, long timeout, int stage) {
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
    /** The MDC entries of the task in hand, on this slot's thread; reused from task to task. */
    final TaskMdc mdc = new TaskMdc();
    /** The MDC entries of the running task's trace, taken off before the trace leaves the thread. */
    final TaskMdc traceMdc = new TaskMdc();
    private boolean abandoned;
    private volatile Connection connection;
    private volatile boolean hadConnection;
    private volatile long xid;
    private volatile long[] batch;
    private volatile Call call;
    private volatile Library library;

    WorkerSlot(Thread thread, int workerNumber, Runnable onAbandoned) {
        this.thread = thread;
        this.workerNumber = workerNumber;
        this.onAbandoned = onAbandoned;
    }

    /** The claim transaction's connection from now on (null when none is open). */
    void use(Connection c) {
        connection = c;
        xid = 0;
        batch = null;
        if (c != null) {
            hadConnection = true;
        }
    }

    /** A transaction is about to ask for a connection: none is had until {@link #use} says so. */
    void connecting() {
        hadConnection = false;
    }

    /** Whether the last transaction since {@link #connecting()} got a connection (false: getting one failed). */
    boolean hadConnection() {
        return hadConnection;
    }

    Connection connection() {
        return connection;
    }

    /** The claim transaction holds these rows now, under transaction id {@code xid}. */
    void holding(long transactionId, long[] ids) {
        xid = transactionId;
        batch = ids;
    }

    long xid() {
        return xid;
    }

    long[] batch() {
        return batch;
    }

    /** A handler call starts. */
    synchronized void calling(Call running) {
        call = running;
    }

    /**
     * The handler call returned (or threw): clears it, and throws {@link Abandoned} if the watchdog
     * took this thread over first.
     */
    synchronized void called() {
        call = null;
        if (abandoned) {
            throw new Abandoned();
        }
    }

    Call call() {
        return call;
    }

    /** For the watchdog: abandons the thread if {@code overdue} is still its call; true if so. */
    synchronized boolean timeOut(Call overdue) {
        if (abandoned || call != overdue) {
            return false;
        }
        abandoned = true;
        return true;
    }

    /** A library statement (or a commit, with null) starts, to finish within {@code timeoutNanos}. */
    synchronized void library(Statement statement, long timeoutNanos) {
        library = new Library(statement, System.nanoTime() + timeoutNanos, timeoutNanos, 0);
    }

    /** The library statement finished. */
    synchronized void libraryDone() {
        library = null;
    }

    Library library() {
        return library;
    }

    /** Moves the library statement to {@code stage}, if it is still {@code seen}; true if so. */
    synchronized boolean advance(Library seen, int stage) {
        if (library != seen) {
            return false;
        }
        library = new Library(seen.statement(), seen.deadline(), seen.timeout(), stage);
        return true;
    }

    /** Marks the slot abandoned (a shutdown gave up on it); true for the one caller that did it. */
    synchronized boolean abandon() {
        if (abandoned) {
            return false;
        }
        abandoned = true;
        return true;
    }

    synchronized boolean abandoned() {
        return abandoned;
    }

    /** Throws {@link Abandoned} if the watchdog gave up on this thread. */
    synchronized void checkNotAbandoned() {
        if (abandoned) {
            throw new Abandoned();
        }
    }
}
