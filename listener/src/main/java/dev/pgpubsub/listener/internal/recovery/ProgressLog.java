package dev.pgpubsub.listener.internal.recovery;

import dev.pgpubsub.listener.RecoveryProgress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * Logs recovery's progress at most every few seconds: rows read and done, the rate, and what
 * remains of the estimate made at the start (never a {@code COUNT(*)} over the table).
 */
final class ProgressLog {

    private final Logger log;
    private final long everyNanos;
    private final Consumer<RecoveryProgress> observer;
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong lastLog = new AtomicLong();
    private volatile long startNanos;
    private volatile long estimate;

    ProgressLog(Logger log, long everyNanos, Consumer<RecoveryProgress> observer) {
        this.log = log;
        this.everyNanos = everyNanos;
        this.observer = observer;
    }

    void start(long estimatedRows) {
        startNanos = System.nanoTime();
        lastLog.set(startNanos);
        estimate = estimatedRows;
        log.info("Recovery started: at most about {} due rows to drain", estimatedRows);
    }

    void add(long rowsRead, long rowsDone) {
        long r = read.addAndGet(rowsRead);
        long d = done.addAndGet(rowsDone);
        long now = System.nanoTime();
        observer.accept(new RecoveryProgress(d, r, estimate, Duration.ofNanos(now - startNanos), false));
        long last = lastLog.get();
        if (now - last >= everyNanos && lastLog.compareAndSet(last, now)) {
            double rate = d / Math.max(1e-9, (now - startNanos) / 1e9);
            long remaining = Math.max(0, estimate - r);
            log.info("Recovery: {} rows done of {} read ({} rows/s), at most about {} remain (about {} s)", d, r,
                    Math.round(rate), remaining, rate <= 0 ? "?" : Math.round(remaining / rate));
        }
    }

    long finish(boolean completed) {
        long d = done.get();
        long elapsed = System.nanoTime() - startNanos;
        observer.accept(new RecoveryProgress(d, read.get(), estimate, Duration.ofNanos(elapsed), true));
        log.info("Recovery {}: {} rows done of {} read in {} ({} rows/s)", completed ? "finished" : "stopped", d, read.get(),
                Recovery.seconds(elapsed), Math.round(d / Math.max(1e-9, elapsed / 1e9)));
        return d;
    }
}
