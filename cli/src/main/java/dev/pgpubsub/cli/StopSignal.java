package dev.pgpubsub.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT, handled by the process itself: the first asks for a graceful stop, a second
 * exits at once. (A JVM shutdown hook alone would exit with 143 and never see the second signal.)
 */
class StopSignal {

    private final CountDownLatch stop = new CountDownLatch(1);
    private final AtomicInteger signals = new AtomicInteger();

    /** Installs the handlers for TERM and INT. */
    static StopSignal installed() {
        StopSignal signal = new StopSignal();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> signal.received("SIG" + s.getName()));
        }
        return signal;
    }

    /** Called on each signal: the first releases {@link #await()}, the second halts the JVM. */
    void received(String name) {
        if (signals.incrementAndGet() == 1) {
            System.err.println("pgpubsub: " + name + " received: stopping (finishing running handlers); "
                    + "send it again to exit at once");
            stop.countDown();
        } else {
            System.err.println("pgpubsub: " + name + " received again: exiting at once");
            Runtime.getRuntime().halt(ExitCodes.INTERRUPTED);
        }
    }

    /** Releases {@link #await()} without a signal, e.g. when the listener gave up; says why. */
    void release(String why) {
        System.err.println("pgpubsub: stopping: " + why);
        stop.countDown();
    }

    /** Waits for the first signal. */
    void await() throws InterruptedException {
        stop.await();
    }
}
