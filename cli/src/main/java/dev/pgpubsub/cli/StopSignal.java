package dev.pgpubsub.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT, handled by the process itself: the first asks for a graceful stop, a second
 * exits at once. (A JVM shutdown hook alone would exit with 143 and never see the second signal.)
 */
class StopSignal {

    private final CountDownLatch stop = new CountDownLatch(1);
    private final AtomicInteger signals = new AtomicInteger();
    private volatile Consumer<String> notices = text -> System.err.println("pgpubsub: " + text);

    /** Installs the handlers for TERM and INT. */
    static StopSignal installed() {
        StopSignal signal = new StopSignal();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> signal.received("SIG" + s.getName()));
        }
        return signal;
    }

    /** Where the lines about stopping go from now on: stderr until told otherwise (a logger, for JSON logs). */
    void noticesTo(Consumer<String> lines) {
        notices = lines;
    }

    /** Called on each signal: the first releases {@link #await()}, the second halts the JVM. */
    void received(String name) {
        if (signals.incrementAndGet() == 1) {
            notices.accept(name + " received: stopping (finishing running handlers); send it again to exit at once");
            stop.countDown();
        } else {
            notices.accept(name + " received again: exiting at once");
            Runtime.getRuntime().halt(ExitCodes.INTERRUPTED);
        }
    }

    /** Releases {@link #await()} without a signal, e.g. when the listener gave up; says why. */
    void release(String why) {
        notices.accept("stopping: " + why);
        stop.countDown();
    }

    /** Waits for the first signal. */
    void await() throws InterruptedException {
        stop.await();
    }
}
