package dev.pgpubsub.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/** The table, the ratios to the ceilings, and the JSON and CSV files. */
final class Report {

    private Report() {
    }

    /** Ours against the raw ceilings and the recovery sizes against each other, from the medians. */
    static List<Result> ratios(Results results) {
        List<Result> ratios = new ArrayList<>();
        for (String size : List.of("1k", "100k", "1M")) {
            ratio(ratios, results, "burn-down", "batched (4 workers, batch 100) / raw batched, " + size,
                    "pgpubsub " + size + " workers=4 batch=100", "raw SQL " + size + " threads=4 batch=100", "tasks/s", false);
            ratio(ratios, results, "burn-down", "one per transaction (10 workers) / raw one-row, " + size,
                    "pgpubsub " + size + " workers=10 batch=1", "raw SQL " + size + " threads=10 batch=1", "tasks/s", false);
        }
        for (String size : List.of("1k", "100k")) {
            ratio(ratios, results, "peer", "pgpubsub / db-scheduler, " + size, "pgpubsub " + size + " workers=4 batch=100",
                    "db-scheduler " + size + " threads=10 lock-and-fetch", "tasks/s", false);
        }
        for (String[] sizes : new String[][] {{"20", "2k"}, {"1k", "100k"}}) {
            ratio(ratios, results, "channels", sizes[0] + " channels x 100 / 1 channel x " + sizes[1],
                    sizes[0] + " channels x 100 workers=4 batch=100", "1 channel x " + sizes[1] + " workers=4 batch=100",
                    "tasks/s", false);
        }
        for (String rate : List.of("300/s", "3000/s")) {
            for (String metric : List.of("p50 ms", "p99 ms")) {
                ratio(ratios, results, "latency", "pgpubsub - raw, " + rate + ", " + metric, "pgpubsub " + rate,
                        "raw INSERT+NOTIFY " + rate, metric, true);
            }
        }
        observability(ratios, results);
        priorities(ratios, results);
        return ratios;
    }

    /**
     * Each observed variant against the plain one: per run, and between medians (the target: at most
     * 5 % apart, or a difference inside the spread, that is, runs that disagree on which is faster);
     * the spread of each variant; and what the observation costs in JVM CPU per task.
     */
    private static void observability(List<Result> into, Results results) {
        String scenario = "observability";
        for (int[] v : new int[][] {{4, 100}, {10, 1}}) {
            for (long tasks : new long[] {100_000, 20_000, 1_000, 200}) {
                String plain = Observed.variant(tasks, v[0], v[1], Observed.Mode.PLAIN);
                Result a = new Result(scenario, plain, "tasks/s", results.runs(scenario, plain, "tasks/s"));
                if (a.runs().isEmpty()) {
                    continue;
                }
                String size = Bench.count(tasks) + " workers=" + v[0] + " batch=" + v[1];
                String derived = scenario + " (derived)";
                into.add(new Result(derived, "plain, " + size, "spread, % of median", List.of(spread(a))));
                Result cpuA = new Result(scenario, plain, "JVM CPU us/task", results.runs(scenario, plain, "JVM CPU us/task"));
                for (Observed.Mode mode : List.of(Observed.Mode.METRICS, Observed.Mode.METRICS_AND_TRACING)) {
                    String observed = Observed.variant(tasks, v[0], v[1], mode);
                    Result b = new Result(scenario, observed, "tasks/s", results.runs(scenario, observed, "tasks/s"));
                    if (b.runs().isEmpty()) {
                        continue;
                    }
                    String name = mode.label + " / plain, " + size;
                    ratio(into, results, scenario, name, observed, plain, "tasks/s", false);
                    double difference = (b.median() / a.median() - 1) * 100;
                    into.add(new Result(derived, name, "medians apart, %", List.of(difference)));
                    into.add(new Result(derived, mode.label + ", " + size, "spread, % of median", List.of(spread(b))));
                    // Inside the spread: the runs do not agree on which is faster. The plain runs' own range
                    // is no test: one slow run widens it, while every pair may show the same cost.
                    List<Double> perRun = perRun(results.runs(scenario, observed, "tasks/s"), a.runs());
                    boolean straddles = perRun.stream().anyMatch(r -> r >= 1) && perRun.stream().anyMatch(r -> r < 1);
                    boolean met = Math.abs(difference) <= 5 || straddles;
                    into.add(new Result(derived, name, "met (1 = yes)", List.of(met ? 1.0 : 0.0)));
                    Result cpuB = new Result(scenario, observed, "JVM CPU us/task", results.runs(scenario, observed,
                            "JVM CPU us/task"));
                    into.add(new Result(derived, mode.label + " - plain, " + size, "JVM CPU us/task",
                            List.of(cpuB.median() - cpuA.median())));
                }
            }
        }
    }

    /**
     * Priorities and keys in use against none: per run, and between medians (the target: at most
     * 10 % slower), with the spread of each.
     */
    private static void priorities(List<Result> into, Results results) {
        String scenario = "priorities";
        String derived = scenario + " (derived)";
        for (int[] v : new int[][] {{4, 100}, {10, 1}}) {
            for (long tasks : new long[] {100_000, 20_000, 1_000, 200}) {
                String plain = Scenarios.prioritiesVariant(tasks, v[0], v[1], false);
                String mixed = Scenarios.prioritiesVariant(tasks, v[0], v[1], true);
                Result a = new Result(scenario, plain, "tasks/s", results.runs(scenario, plain, "tasks/s"));
                Result b = new Result(scenario, mixed, "tasks/s", results.runs(scenario, mixed, "tasks/s"));
                if (a.runs().isEmpty() || b.runs().isEmpty()) {
                    continue;
                }
                String size = Bench.count(tasks) + " workers=" + v[0] + " batch=" + v[1];
                String name = "priorities+keys / plain, " + size;
                ratio(into, results, scenario, name, mixed, plain, "tasks/s", false);
                double difference = (b.median() / a.median() - 1) * 100;
                into.add(new Result(derived, name, "medians apart, %", List.of(difference)));
                into.add(new Result(derived, "plain, " + size, "spread, % of median", List.of(spread(a))));
                into.add(new Result(derived, "priorities+keys, " + size, "spread, % of median", List.of(spread(b))));
                into.add(new Result(derived, name, "met (1 = yes)", List.of(difference >= -10 ? 1.0 : 0.0)));
            }
        }
    }

    /** a / b, run by run. */
    private static List<Double> perRun(List<Double> a, List<Double> b) {
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            ratios.add(a.get(i) / b.get(i));
        }
        return ratios;
    }

    /** (max - min) / median, in %. */
    private static double spread(Result r) {
        return (r.max() - r.min()) / r.median() * 100;
    }

    /**
     * Ours against its neighbour of the same run, run by run (each variant runs once per run, so the
     * n-th figures of both are neighbours); the median and range of those.
     */
    private static void ratio(List<Result> into, Results results, String scenario, String name, String ours, String raw,
            String metric, boolean difference) {
        List<Double> a = results.runs(scenario, ours, metric);
        List<Double> b = results.runs(scenario, raw, metric);
        List<Double> perRun = new ArrayList<>();
        if (difference) {
            for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
                perRun.add(a.get(i) - b.get(i));
            }
        } else {
            perRun.addAll(perRun(a, b));
        }
        if (!perRun.isEmpty()) {
            into.add(new Result(scenario + " (derived)", name, difference ? "difference, ms" : "ratio", perRun));
        }
    }

    static void print(List<Result> results, PrintStream out) {
        out.println();
        out.printf(Locale.ROOT, "%-22s %-56s %-18s %12s %12s %12s%n", "scenario", "variant", "metric", "median", "min", "max");
        for (Result r : results) {
            out.printf(Locale.ROOT, "%-22s %-56s %-18s %12.2f %12.2f %12.2f%n", r.scenario(), r.variant(), r.metric(), r.median(),
                    r.min(), r.max());
        }
    }

    static void writeJson(Path file, Map<String, String> machine, Bench.Settings settings, Instant started,
            List<Result> results) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("started", started.toString());
        root.put("size", settings.full() ? "full" : "smoke");
        root.put("repeat", settings.repeat());
        root.put("machine", machine);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("scenario", r.scenario());
            row.put("variant", r.variant());
            row.put("metric", r.metric());
            row.put("median", r.median());
            row.put("min", r.min());
            row.put("max", r.max());
            row.put("runs", r.runs());
            rows.add(row);
        }
        root.put("results", rows);
        Files.writeString(file, JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    static void writeCsv(Path file, List<Result> results) throws IOException {
        StringBuilder csv = new StringBuilder("scenario,variant,metric,median,min,max,runs\n");
        for (Result r : results) {
            csv.append(quote(r.scenario())).append(',').append(quote(r.variant())).append(',').append(quote(r.metric()))
                    .append(String.format(Locale.ROOT, ",%.4f,%.4f,%.4f,", r.median(), r.min(), r.max()))
                    .append(quote(r.runs().stream().map(v -> String.format(Locale.ROOT, "%.4f", v)).toList().toString()))
                    .append('\n');
        }
        Files.writeString(file, csv);
    }

    private static String quote(String text) {
        return "\"" + text.replace("\"", "\"\"") + "\"";
    }
}
