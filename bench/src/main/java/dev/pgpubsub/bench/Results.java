package dev.pgpubsub.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Collects the runs of every (scenario, variant, metric), in the order first seen. */
final class Results {

    private final Map<List<String>, List<Double>> runs = new LinkedHashMap<>();

    void add(String scenario, String variant, String metric, double value) {
        runs.computeIfAbsent(List.of(scenario, variant, metric), k -> new ArrayList<>()).add(value);
    }

    /** Every run of a figure so far, in run order (empty if none). */
    List<Double> runs(String scenario, String variant, String metric) {
        return runs.getOrDefault(List.of(scenario, variant, metric), List.of());
    }

    List<Result> all() {
        List<Result> all = new ArrayList<>();
        runs.forEach((key, values) -> all.add(new Result(key.get(0), key.get(1), key.get(2), values)));
        return all;
    }
}
