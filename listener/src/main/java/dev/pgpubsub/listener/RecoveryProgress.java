package dev.pgpubsub.listener;

import java.time.Duration;

/**
 * How far start-up recovery has come; see {@link ListenerBuilder#onRecoveryProgress}.
 *
 * @param rowsDone      tasks run and committed so far
 * @param rowsRead      ids read from the cursor so far (some may have been taken by another listener)
 * @param estimatedRows the estimate, made at the start without counting the table, of the rows to drain
 * @param elapsed       time since recovery started
 * @param finished      whether this is the last report
 */
public record RecoveryProgress(long rowsDone, long rowsRead, long estimatedRows, Duration elapsed, boolean finished) {

    /**
     * Tasks done per second so far.
     *
     * @return {@code rowsDone} divided by the elapsed seconds; 0 before any time has elapsed
     */
    public double rowsPerSecond() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds <= 0 ? 0 : rowsDone / seconds;
    }
}
