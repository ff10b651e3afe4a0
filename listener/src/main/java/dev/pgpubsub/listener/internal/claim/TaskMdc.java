package dev.pgpubsub.listener.internal.claim;

import org.slf4j.MDC;

/**
 * The SLF4J MDC entries of one task, on the thread that runs its handler (or logs about it): put
 * for as long as the task is in hand, then each key set back to what it held before, so that a
 * caller's own entries survive. Only the keys put are restored: entries a handler adds and does not
 * remove are its own.
 *
 * <p>Any key may join the scope ({@link #put}), so that more context (a trace's {@code traceId} and
 * {@code spanId}) is put and restored with the task's. A worker reuses one instance for all its
 * tasks, so that the hot path allocates only the values' strings. Not thread-safe: one thread
 * uses it at a time, as the MDC is per thread.
 */
final class TaskMdc implements AutoCloseable {

    /** The task's id. */
    static final String TASK_ID = "pgpubsub.task.id";
    /** The task's channel. */
    static final String CHANNEL = "pgpubsub.task.channel";
    /** The attempt, 1 the first time. */
    static final String ATTEMPT = "pgpubsub.task.attempt";

    /** Keys one scope holds at most; past this, a key is put but not restored. */
    private static final int CAPACITY = 8;

    private final String[] keys = new String[CAPACITY];
    private final String[] before = new String[CAPACITY];
    private int size;

    /**
     * Opens the task's scope: its id, channel and attempt.
     *
     * @return this, to close when the task is out of hand
     */
    TaskMdc task(long id, String channel, int attempt) {
        put(TASK_ID, Long.toString(id));
        put(CHANNEL, channel);
        put(ATTEMPT, Integer.toString(attempt));
        return this;
    }

    /** Puts {@code key} for the scope, noting what it held before (the first time it is put in the scope). */
    void put(String key, String value) {
        if (!holds(key) && size < CAPACITY) {
            keys[size] = key;
            before[size] = MDC.get(key);
            size++;
        }
        MDC.put(key, value);
    }

    private boolean holds(String key) {
        for (int i = 0; i < size; i++) {
            if (keys[i].equals(key)) {
                return true;
            }
        }
        return false;
    }

    /** Sets every key put since the scope opened back to what it held before; the scope is empty again. */
    @Override
    public void close() {
        for (int i = size - 1; i >= 0; i--) {
            if (before[i] == null) {
                MDC.remove(keys[i]);
            } else {
                MDC.put(keys[i], before[i]);
            }
            keys[i] = null;
            before[i] = null;
        }
        size = 0;
    }
}
