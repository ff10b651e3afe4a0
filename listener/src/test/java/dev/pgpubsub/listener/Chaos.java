package dev.pgpubsub.listener;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault injected on a fixed delay, on a thread of its own, until stopped: counts the rounds that
 * were injected and what they hit (sessions terminated, say). A round that could not be injected is
 * tried again at the next one.
 */
final class Chaos implements AutoCloseable {

    /** One round of the fault. */
    @FunctionalInterface
    interface Fault {
        /** Injects the fault once; returns how many things it hit. */
        long inject() throws Exception;
    }

    private final Thread thread;
    private final AtomicLong faults = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private volatile boolean stopped;

    private Chaos(Duration every, Fault fault) {
        this.thread = new Thread(() -> {
            while (!stopped) {
                try {
                    Thread.sleep(every.toMillis()); // the pace of the faults, not a wait for a condition
                    hits.addAndGet(fault.inject());
                    faults.incrementAndGet();
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // the fault could not be injected this time; try again
                }
            }
        }, "chaos");
        thread.setDaemon(true);
        thread.start();
    }

    static Chaos every(Duration every, Fault fault) {
        return new Chaos(every, fault);
    }

    /** Rounds injected. */
    long faults() {
        return faults.get();
    }

    /** What the rounds hit, in all. */
    long hits() {
        return hits.get();
    }

    void stop() throws InterruptedException {
        stopped = true;
        thread.interrupt();
        thread.join();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
