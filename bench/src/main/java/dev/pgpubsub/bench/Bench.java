package dev.pgpubsub.bench;

import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.TestDatabase;
import dev.pgpubsub.testing.TestServers;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The benchmark harness. Runs the scenarios on an embedded Postgres (or on the server of a given
 * JDBC URL, creating a database per run), each variant {@code --repeat} times, interleaved (A B A B),
 * prints a table of medians and ranges, and writes {@code results.json}, {@code results.csv} and
 * {@code recovery-heap.png} to {@code --out}. See docs/performance.md.
 */
public final class Bench {

    /** Every scenario, in the order they run. */
    static final List<String> SCENARIOS = List.of("burn-down", "channels", "latency", "recovery", "publishing", "drivers",
            "peer", "observability", "priorities", "console", "profile");

    /**
     * What to run.
     *
     * @param jdbcUrl  a server to use, or null for an embedded one
     * @param full     full sizes, or the smoke sizes that the build runs
     * @param repeat   runs per variant
     * @param only     the scenarios to run
     * @param million  add the 1,000,000-row sizes
     * @param out      where the result files go
     */
    record Settings(String jdbcUrl, boolean full, int repeat, Set<String> only, boolean million, Path out) {

        static Settings parse(String[] args) {
            Options options = new Options();
            CommandLine cli = new CommandLine(options);
            cli.parseArgs(args);
            if (options.url != null && !options.url.startsWith("jdbc:postgresql:")) {
                throw new CommandLine.ParameterException(cli, "The JDBC URL is '" + options.url
                        + "': give a jdbc:postgresql:// URL, or none for an embedded server");
            }
            Set<String> only = new LinkedHashSet<>(options.only == null ? SCENARIOS.stream()
                    .filter(s -> !s.equals("profile")).toList() : options.only);
            if (!SCENARIOS.containsAll(only)) {
                throw new CommandLine.ParameterException(cli, "--only names " + only + "; the scenarios are " + SCENARIOS);
            }
            if (!List.of("smoke", "full").contains(options.size)) {
                throw new CommandLine.ParameterException(cli, "--size is '" + options.size + "': give smoke or full");
            }
            boolean full = options.size.equals("full");
            return new Settings(options.url, full, options.repeat != null ? options.repeat : full ? 3 : 1, only,
                    options.million, options.out);
        }
    }

    /** The command line. */
    @Command(name = "bench", description = "pgpubsub's benchmarks against the raw SQL ceiling")
    static final class Options {
        @Parameters(index = "0", arity = "0..1", paramLabel = "JDBC_URL", description = "a server to use (default: embedded)")
        String url;

        @Option(names = "--size", defaultValue = "full", description = "smoke or full (default: ${DEFAULT-VALUE})",
                completionCandidates = Sizes.class)
        String size;

        @Option(names = "--repeat", description = "runs per variant (default: 3 at full size, 1 at smoke)")
        Integer repeat;

        @Option(names = "--only", split = ",", description = "scenarios to run: ${COMPLETION-CANDIDATES} "
                + "(default: all but profile)", completionCandidates = ScenarioNames.class)
        List<String> only;

        @Option(names = "--million", description = "add the 1,000,000-row sizes")
        boolean million;

        @Option(names = "--out", defaultValue = "target/bench", description = "where the result files go")
        Path out;

        /** The sizes. */
        static final class Sizes extends ArrayList<String> {
            private static final long serialVersionUID = 1L;

            Sizes() {
                super(List.of("smoke", "full"));
            }
        }

        /** The scenarios. */
        static final class ScenarioNames extends ArrayList<String> {
            private static final long serialVersionUID = 1L;

            ScenarioNames() {
                super(SCENARIOS);
            }
        }
    }

    private final Settings settings;
    private final PostgresServer server;
    private final PrintStream out;
    private final Results results = new Results();
    private final Map<Long, List<long[]>> heapSamples = new LinkedHashMap<>();
    private int databases;

    private Bench(Settings settings, PostgresServer server, PrintStream out) {
        this.settings = settings;
        this.server = server;
        this.out = out;
    }

    /** Runs the harness; exits non-zero on a failure. */
    public static void main(String[] args) {
        try {
            run(Settings.parse(args), System.out);
        } catch (Exception e) {
            System.err.println("bench: " + e);
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    /** Runs the scenarios of {@code settings}; returns every result (also written to the output folder). */
    static List<Result> run(Settings settings, PrintStream out) throws Exception {
        PostgresServer server = settings.jdbcUrl() != null ? TestServers.external(settings.jdbcUrl()) : TestServers.embedded();
        try {
            Bench bench = new Bench(settings, server, out);
            return bench.runAll();
        } finally {
            if (server instanceof EmbeddedPostgresServer embedded) {
                embedded.close();
            }
        }
    }

    private List<Result> runAll() throws Exception {
        Map<String, String> machine = Machine.describe(server);
        out.println("pgpubsub benchmarks, " + (settings.full() ? "full" : "smoke") + " sizes, " + settings.repeat()
                + " run(s) per variant: " + machine);
        Instant started = Instant.now();
        for (int run = 1; run <= settings.repeat(); run++) {
            out.printf("-- run %d of %d%n", run, settings.repeat());
            if (settings.only().contains("burn-down")) {
                burnDown();
            }
            if (settings.only().contains("channels")) {
                channels();
            }
            if (settings.only().contains("latency")) {
                latency();
            }
            if (settings.only().contains("publishing")) {
                publishing();
            }
            if (settings.only().contains("drivers")) {
                drivers();
            }
            if (settings.only().contains("peer")) {
                peer();
            }
            if (settings.only().contains("observability")) {
                observability(run == 1);
            }
            if (settings.only().contains("priorities")) {
                priorities(run == 1);
            }
            if (settings.only().contains("console")) {
                console();
            }
            if (settings.only().contains("recovery")) {
                recovery(run == 1);
            }
            if (settings.only().contains("profile")) {
                profile();
            }
        }
        List<Result> all = results.all();
        List<Result> withRatios = new ArrayList<>(all);
        withRatios.addAll(Report.ratios(results));
        Report.print(withRatios, out);
        Files.createDirectories(settings.out());
        Report.writeJson(settings.out().resolve("results.json"), machine, settings, started, withRatios);
        Report.writeCsv(settings.out().resolve("results.csv"), withRatios);
        if (!heapSamples.isEmpty()) {
            Chart.recoveryHeap(settings.out().resolve("recovery-heap.png"), heapSamples);
        }
        out.println("Written: " + settings.out().toAbsolutePath().normalize() + "/{results.json, results.csv"
                + (heapSamples.isEmpty() ? "" : ", recovery-heap.png") + "}");
        return withRatios;
    }

    private TestDatabase fresh() {
        return server.createDatabase("bench" + ++databases);
    }

    private void burnDown() throws Exception {
        long n = settings.full() ? 100_000 : 1_000;
        List<long[]> sizes = new ArrayList<>();
        sizes.add(new long[] {n});
        if (settings.million()) {
            sizes.add(new long[] {1_000_000});
        }
        int[][] ours = settings.full() ? new int[][] {{1, 100}, {4, 100}, {16, 100}, {4, 10}, {10, 1}}
                : new int[][] {{4, 100}, {10, 1}};
        for (long[] size : sizes) {
            for (int[] variant : ours) {
                // Each of ours is followed by its raw ceiling where there is one: interleaved, same session.
                measureBurnDown(size[0], variant[0], variant[1]);
                if ((variant[0] == 4 && variant[1] == 100) || (variant[0] == 10 && variant[1] == 1)) {
                    measureRaw(size[0], variant[0], variant[1]);
                }
            }
        }
    }

    private void measureBurnDown(long n, int workers, int batch) throws Exception {
        String variant = "pgpubsub " + count(n) + " workers=" + workers + " batch=" + batch;
        try (TestDatabase db = fresh()) {
            double[] r = Scenarios.burnDown(db, n, workers, batch, false);
            record("burn-down", variant, "tasks/s", r[0]);
            record("burn-down", variant, "commits/task", r[1]);
            record("burn-down", variant, "WAL bytes/task", r[2]);
            record("burn-down", variant, "JVM CPU us/task", r[3]);
        }
    }

    /** Many channels of few tasks each against one channel of as many tasks, on one listener. */
    private void channels() throws Exception {
        int channels = settings.full() ? 1_000 : 20;
        long per = 100;
        try (TestDatabase db = fresh()) {
            double[] r = Scenarios.channelsBurnDown(db, channels, per, 4, 100);
            record("channels", count(channels) + " channels x " + per + " workers=4 batch=100", "tasks/s", r[0]);
            record("channels", count(channels) + " channels x " + per + " workers=4 batch=100", "commits/task", r[1]);
        }
        try (TestDatabase db = fresh()) {
            double[] r = Scenarios.channelsBurnDown(db, 1, channels * per, 4, 100);
            record("channels", "1 channel x " + count(channels * per) + " workers=4 batch=100", "tasks/s", r[0]);
            record("channels", "1 channel x " + count(channels * per) + " workers=4 batch=100", "commits/task", r[1]);
        }
    }

    /**
     * Burn-downs without observation, with metrics, and with metrics and tracing, alternately (see
     * {@link Observed}). The first run is preceded by one of each, not recorded: a cold JIT would
     * otherwise charge the first variant alone.
     */
    private void observability(boolean first) throws Exception {
        long n = settings.full() ? 100_000 : 1_000;
        if (first && settings.full()) {
            for (Observed.Mode mode : Observed.Mode.values()) {
                try (TestDatabase db = fresh()) {
                    Observed.burnDown(db, n, 4, 100, mode);
                }
            }
        }
        for (int[] variant : new int[][] {{4, 100}, {10, 1}}) {
            long tasks = variant[1] == 1 ? n / 5 : n;
            for (Observed.Mode mode : Observed.Mode.values()) {
                try (TestDatabase db = fresh()) {
                    double[] r = Observed.burnDown(db, tasks, variant[0], variant[1], mode);
                    String name = Observed.variant(tasks, variant[0], variant[1], mode);
                    record("observability", name, "tasks/s", r[0]);
                    record("observability", name, "JVM CPU us/task", r[1]);
                    if (mode == Observed.Mode.METRICS_AND_TRACING) {
                        record("observability", name, "spans/task", r[2]);
                    }
                }
            }
        }
    }

    /**
     * Burn-downs of the same backlog with every task of priority 0 and no key, and with priorities
     * and unique keys in use (see {@link Scenarios#seedWithPriorities}), alternately. The first run
     * is preceded by one of each, not recorded, as in {@link #observability}.
     */
    private void priorities(boolean first) throws Exception {
        long n = settings.full() ? 100_000 : 1_000;
        if (first && settings.full()) {
            for (boolean mixed : new boolean[] {false, true}) {
                try (TestDatabase db = fresh()) {
                    Scenarios.prioritiesBurnDown(db, n, 4, 100, mixed);
                }
            }
        }
        for (int[] variant : new int[][] {{4, 100}, {10, 1}}) {
            long tasks = variant[1] == 1 ? n / 5 : n;
            for (boolean mixed : new boolean[] {false, true}) {
                try (TestDatabase db = fresh()) {
                    double[] r = Scenarios.prioritiesBurnDown(db, tasks, variant[0], variant[1], mixed);
                    String name = Scenarios.prioritiesVariant(tasks, variant[0], variant[1], mixed);
                    record("priorities", name, "tasks/s", r[0]);
                    record("priorities", name, "JVM CPU us/task", r[3]);
                }
            }
        }
    }

    /**
     * The console's dead-letter page, first page, with 100,000 dead letters (1,000 at smoke size):
     * all channels, and one channel; and the overview. Each the median (and 95th percentile) of 50
     * requests after 50 unrecorded ones.
     */
    private void console() throws Exception {
        long n = settings.full() ? 100_000 : 1_000;
        int requests = settings.full() ? 50 : 5;
        List<String> paths = List.of("/dead-letters", "/dead-letters?channel=orders", "/");
        List<String> names = List.of("dead letters, first page, all channels", "dead letters, first page, one channel",
                "overview");
        try (TestDatabase db = fresh()) {
            ConsolePages.seedDeadLetters(db, n);
            List<List<Double>> times = ConsolePages.time(db, paths, requests);
            for (int i = 0; i < paths.size(); i++) {
                List<Double> sorted = times.get(i).stream().sorted().toList();
                String variant = names.get(i) + ", " + count(n) + " dead letters";
                record("console", variant, "median ms", sorted.get(sorted.size() / 2));
                record("console", variant, "p95 ms", sorted.get((int) Math.ceil(sorted.size() * 0.95) - 1));
            }
        }
    }

    /** JVM CPU time per task, by layer, from Flight Recorder profiles of three burn-downs (one observed). */
    private void profile() throws Exception {
        long n = settings.full() ? 100_000 : 2_000;
        for (int[] variant : new int[][] {{4, 100}, {10, 1}}) {
            long tasks = variant[1] == 1 ? n / 5 : n;
            try (TestDatabase db = fresh()) {
                Map<String, Double> micros = Profile.perTask(() -> {
                    Scenarios.burnDown(db, tasks, variant[0], variant[1], false);
                    return tasks;
                });
                profiled("pgpubsub " + count(tasks) + " workers=" + variant[0] + " batch=" + variant[1], micros);
            }
        }
        // The batched burn-down again, with metrics and tracing: what the observation costs, by layer.
        try (TestDatabase db = fresh(); Observed observed = new Observed(Observed.Mode.METRICS_AND_TRACING)) {
            observed.seed(db, n);
            Map<String, Double> micros = Profile.perTask(() -> {
                observed.burnDown(db, n, 4, 100);
                return n;
            });
            profiled(Observed.variant(n, 4, 100, Observed.Mode.METRICS_AND_TRACING), micros);
        }
    }

    private void profiled(String variant, Map<String, Double> micros) {
        micros.forEach((layer, us) -> record("profile", variant + ": " + layer,
                layer.endsWith("(count)") ? "samples" : "JVM CPU us/task", us));
    }

    private void measureRaw(long n, int threads, int batch) throws Exception {
        String variant = "raw SQL " + count(n) + " threads=" + threads + " batch=" + batch;
        try (TestDatabase db = fresh()) {
            double[] r = Scenarios.rawBurnDown(db, n, threads, batch);
            record("burn-down", variant, "tasks/s", r[0]);
            record("burn-down", variant, "commits/task", r[1]);
            record("burn-down", variant, "WAL bytes/task", r[2]);
            record("burn-down", variant, "JVM CPU us/task", r[3]);
        }
    }

    private void latency() throws Exception {
        int[] rates = settings.full() ? new int[] {300, 3_000} : new int[] {300};
        Duration duration = settings.full() ? Duration.ofSeconds(10) : Duration.ofSeconds(1);
        for (int rate : rates) {
            try (TestDatabase db = fresh()) {
                latencyFigures("pgpubsub " + rate + "/s", Scenarios.latency(db, rate, duration));
            }
            try (TestDatabase db = fresh()) {
                latencyFigures("raw INSERT+NOTIFY " + rate + "/s", Scenarios.rawLatency(db, rate, duration));
            }
        }
    }

    private void latencyFigures(String variant, long[] micros) {
        Percentiles p = new Percentiles(micros);
        record("latency", variant, "p50 ms", p.at(50) / 1000);
        record("latency", variant, "p95 ms", p.at(95) / 1000);
        record("latency", variant, "p99 ms", p.at(99) / 1000);
        record("latency", variant, "max ms", p.max() / 1000);
    }

    private void publishing() throws Exception {
        int single = settings.full() ? 1_000 : 25;
        int batches = settings.full() ? 10 : 1;
        for (boolean wakeUp : new boolean[] {true, false}) {
            String how = wakeUp ? "with NOTIFY" : "without NOTIFY";
            try (TestDatabase db = fresh()) {
                record("publishing", "8 threads, 1 task/tx, " + how, "tasks/s", Scenarios.publishing(db, 8, single, 1, wakeUp));
            }
            try (TestDatabase db = fresh()) {
                record("publishing", "8 threads, 1,000 tasks/tx, " + how, "tasks/s",
                        Scenarios.publishing(db, 8, batches, 1_000, wakeUp));
            }
        }
    }

    private void drivers() throws Exception {
        long n = settings.full() ? 100_000 : 1_000;
        for (boolean ng : new boolean[] {false, true}) {
            try (TestDatabase db = fresh()) {
                double[] r = Scenarios.burnDown(db, n, 4, 100, ng);
                record("drivers", "workers on " + (ng ? "pgjdbc-ng" : "the standard driver") + ", " + count(n), "tasks/s", r[0]);
            }
        }
    }

    /** Ours and db-scheduler, alternately, on the same backlog of due no-op tasks. */
    private void peer() throws Exception {
        long n = settings.full() ? 100_000 : 1_000;
        try (TestDatabase db = fresh()) {
            record("peer", "pgpubsub " + count(n) + " workers=4 batch=100", "tasks/s", Scenarios.burnDown(db, n, 4, 100, false)[0]);
        }
        try (TestDatabase db = fresh()) {
            record("peer", "db-scheduler " + count(n) + " threads=10 lock-and-fetch", "tasks/s", Peer.dbSchedulerBurnDown(db, n, 10));
        }
    }

    private void recovery(boolean keepSamples) throws Exception {
        List<Long> backlogs = new ArrayList<>(settings.full() ? List.of(10_000L, 100_000L) : List.of(1_000L, 4_000L));
        if (settings.million()) {
            backlogs.add(1_000_000L);
        }
        for (long backlog : backlogs) {
            try (TestDatabase db = fresh()) {
                Scenarios.seed(db, backlog);
                Map<String, String> r = Child.recover(db, backlog);
                String variant = count(backlog) + " rows, -Xmx64m";
                record("recovery", variant, "heap after GC MiB", Long.parseLong(r.get("heapAfterGc")) / 1048576.0);
                record("recovery", variant, "direct MiB",
                        (Long.parseLong(r.get("jdkDirect")) + Long.parseLong(r.get("nettyDirect"))) / 1048576.0);
                record("recovery", variant, "RSS MiB", Long.parseLong(r.get("rss")) / 1048576.0);
                record("recovery", variant, "rows/s", backlog / Double.parseDouble(r.get("seconds")));
                record("recovery", variant, "rows/s after start()", backlog / Double.parseDouble(r.get("drainSeconds")));
                if (keepSamples) {
                    heapSamples.put(backlog, Child.samples(r.get("samples")));
                }
            }
        }
    }

    private void record(String scenario, String variant, String metric, double value) {
        results.add(scenario, variant, metric, value);
        out.printf(Locale.ROOT, "  %-11s %-52s %-18s %12.2f%n", scenario, variant, metric, value);
    }

    static String count(long n) {
        return n >= 1_000_000 && n % 1_000_000 == 0 ? n / 1_000_000 + "M" : n >= 1_000 && n % 1_000 == 0 ? n / 1_000 + "k"
                : Long.toString(n);
    }

    /** The driver's version, as it reports it. */
    static String driverVersion(String url) {
        try {
            var driver = DriverManager.getDriver(url);
            return driver.getMajorVersion() + "." + driver.getMinorVersion();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
