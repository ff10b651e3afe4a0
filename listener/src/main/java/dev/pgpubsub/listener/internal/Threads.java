package dev.pgpubsub.listener.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every thread the listener starts comes from here: daemon threads named after their listener and
 * their job ({@code pgpubsub-1-worker-3}), so that a thread dump tells who is who.
 */
public final class Threads {

    private Threads() {
    }

    /**
     * Starts a daemon thread.
     *
     * @param name the thread's whole name
     * @param body what it runs
     * @return the started thread
     */
    public static Thread start(String name, Runnable body) {
        Thread t = create(name, body);
        t.start();
        return t;
    }

    /** A daemon thread, not started. */
    public static Thread create(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * A factory for an executor's threads: {@code name}, or {@code name-n} when {@code numbered}.
     *
     * @param name     the threads' name
     * @param numbered whether to append a number per thread
     * @return the factory
     */
    public static ThreadFactory factory(String name, boolean numbered) {
        AtomicInteger count = new AtomicInteger();
        return body -> create(numbered ? name + "-" + count.incrementAndGet() : name, body);
    }
}
