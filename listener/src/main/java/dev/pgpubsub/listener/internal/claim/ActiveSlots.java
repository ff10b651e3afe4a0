package dev.pgpubsub.listener.internal.claim;

import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The slots of threads that claim and run tasks now (workers and start-up recovery's), for the watchdog and the stop. */
final class ActiveSlots implements Iterable<WorkerSlot> {

    private final Set<WorkerSlot> slots = ConcurrentHashMap.newKeySet();

    void add(WorkerSlot slot) {
        slots.add(slot);
    }

    void remove(WorkerSlot slot) {
        slots.remove(slot);
        synchronized (this) {
            notifyAll();
        }
    }

    /** Waits until no slot is active or {@code deadline} ({@link System#nanoTime()}) passes. */
    synchronized void awaitEmpty(long deadline) throws InterruptedException {
        long left;
        while (!slots.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    @Override
    public Iterator<WorkerSlot> iterator() {
        return slots.iterator();
    }
}
