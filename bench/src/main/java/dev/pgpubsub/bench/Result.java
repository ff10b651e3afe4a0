package dev.pgpubsub.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * One measured figure of one variant of a scenario, over its repeated runs.
 *
 * @param scenario e.g. "burn-down"
 * @param variant  e.g. "pgpubsub workers=4 batch=100"
 * @param metric   e.g. "tasks/s"
 * @param runs     the value of each run, in run order
 */
public record Result(String scenario, String variant, String metric, List<Double> runs) {

    /** Copies the runs. */
    public Result {
        runs = List.copyOf(runs);
    }

    /** The median of the runs. */
    public double median() {
        List<Double> sorted = new ArrayList<>(runs);
        sorted.sort(Double::compare);
        int n = sorted.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The smallest run. */
    public double min() {
        return runs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    /** The largest run. */
    public double max() {
        return runs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
