package dev.pgpubsub.bench;

import java.util.Arrays;

/** Percentiles of a set of latencies (nearest rank). */
final class Percentiles {

    private final long[] sorted;

    Percentiles(long[] values) {
        this.sorted = values.clone();
        Arrays.sort(sorted);
    }

    /** The value at {@code p} (0..100), in the unit given. */
    double at(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(0, Math.min(rank - 1, sorted.length - 1))];
    }

    double max() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
    }
}
