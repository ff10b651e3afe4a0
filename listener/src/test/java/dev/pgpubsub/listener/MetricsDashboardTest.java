package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.listener.micrometer.PgPubSubMetrics;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The Prometheus alert rules, the Grafana dashboard and the operations guide under {@code docs/} name
 * only series that {@code /metrics} exposes, and promtool accepts the rules, their unit tests and the
 * scrape example.
 */
@PostgresTest
class MetricsDashboardTest {

    static final Path DOCS = Path.of("..", "docs");
    static final Path ALERTS = DOCS.resolve("prometheus/pgpubsub-alerts.yml");
    static final Path ALERT_TESTS = DOCS.resolve("prometheus/pgpubsub-alerts.test.yml");
    static final Path SCRAPE = DOCS.resolve("prometheus/scrape.yml");
    static final Path DASHBOARD = DOCS.resolve("grafana/pgpubsub-dashboard.json");
    static final Path OPERATIONS = DOCS.resolve("operations.md");

    /** Series Prometheus writes itself for every scrape target. */
    private static final Set<String> SCRAPER_SERIES = Set.of("up");

    private static final RetryPolicy FAST = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w$.:])[a-zA-Z_:][\\w:]*");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "atan2", "bool", "offset", "by",
            "without", "on", "ignoring", "group_left", "group_right", "inf", "nan");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][\\w:]*)");
    /** A series name in prose, or a family of them: {@code pgpubsub_tasks_lag_seconds_*}. */
    private static final Pattern SERIES_IN_PROSE = Pattern.compile("pgpubsub_[a-z0-9_]+_\\*|pgpubsub_[a-z0-9_]*[a-z0-9]");

    private final TestDatabase db;

    MetricsDashboardTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void theAlertRulesTheDashboardAndTheOperationsGuideNameOnlySeriesThatMetricsExposes() throws Exception {
        Set<String> plain = seriesAfterEveryOutcome(false);
        Set<String> withHistograms = seriesAfterEveryOutcome(true);

        Map<String, List<String>> referenced = seriesInAlertsAndDashboard();
        assertThat(referenced.keySet()).as("series named by the alert rules and the dashboard")
                .anyMatch(s -> s.startsWith("pgpubsub_")).contains("up");
        Map<String, List<String>> missing = new TreeMap<>(referenced);
        missing.keySet().removeIf(series -> exposed(series, plain, withHistograms));
        assertThat(missing).as("series that /metrics does not expose (it does: %s)", withHistograms).isEmpty();

        Set<String> inGuide = seriesInOperationsGuide();
        assertThat(inGuide).as("series named in the metrics sections of %s", OPERATIONS).hasSizeGreaterThan(10);
        inGuide.removeIf(series -> exposed(series, plain, withHistograms));
        assertThat(inGuide).as("series named in %s that /metrics does not expose (it does: %s)", OPERATIONS,
                withHistograms).isEmpty();
    }

    /**
     * Whether a scrape has the series: buckets only with percentile histograms (an option), the rest
     * always; {@code name_*} stands for a family (a timer's {@code _count}, {@code _sum}, {@code _max}).
     */
    private static boolean exposed(String series, Set<String> plain, Set<String> withHistograms) {
        if (series.endsWith("_*")) {
            String prefix = series.substring(0, series.length() - 1);
            return plain.stream().anyMatch(s -> s.startsWith(prefix));
        }
        return SCRAPER_SERIES.contains(series) || plain.contains(series)
                || series.endsWith("_bucket") && withHistograms.contains(series);
    }

    /** The series each alert rule's and dashboard target's expression names, with where. */
    private static Map<String, List<String>> seriesInAlertsAndDashboard() {
        Map<String, List<String>> referenced = new TreeMap<>();
        for (String expr : new YAMLMapper().readTree(ALERTS.toFile()).findValuesAsString("expr")) {
            seriesIn(expr).forEach(s -> referenced.computeIfAbsent(s, k -> new ArrayList<>()).add(ALERTS + ": " + expr));
        }
        JsonNode dashboard = new JsonMapper().readTree(DASHBOARD.toFile());
        for (String expr : dashboard.findValuesAsString("expr")) {
            seriesIn(expr).forEach(s -> referenced.computeIfAbsent(s, k -> new ArrayList<>()).add(DASHBOARD + ": " + expr));
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            Matcher m = LABEL_VALUES.matcher(variable.path("definition").asString(""));
            while (m.find()) {
                referenced.computeIfAbsent(m.group(1), k -> new ArrayList<>())
                        .add(DASHBOARD + ": variable " + variable.path("name").asString());
            }
        }
        return referenced;
    }

    /** The series names in the guide's sections "Metrics" and "Prometheus and Grafana". */
    private static Set<String> seriesInOperationsGuide() throws IOException {
        Matcher sections = Pattern.compile("(?s)\n## Metrics\n.*?(?=\n## (?!Prometheus and Grafana))")
                .matcher(Files.readString(OPERATIONS));
        assertThat(sections.find()).as("a section \"Metrics\" in %s", OPERATIONS).isTrue();
        Set<String> names = new TreeSet<>();
        Matcher m = SERIES_IN_PROSE.matcher(sections.group());
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    @Test
    void promtoolAcceptsTheAlertRules() throws Exception {
        assertThat(promtool("check", "rules", ALERTS.toString())).isEmpty();
    }

    @Test
    void promtoolAcceptsTheScrapeExampleWithTheRulesItLoads() throws Exception {
        assertThat(promtool("check", "config", SCRAPE.toString())).isEmpty();
    }

    @Test
    void theAlertsFireOnSyntheticSeriesAsTheirUnitTestsExpect() throws Exception {
        assertThat(promtool("test", "rules", ALERT_TESTS.toString())).isEmpty();
    }

    @Test
    void theSeriesNamesAreFoundInPromQl() {
        assertThat(seriesIn("max by (channel) (pgpubsub_queue_depth_tasks{channel=~\"$channel\"}) > 100"
                + " and deriv(max by (channel) (pgpubsub_queue_depth_tasks)[15m:1m]) > 0"))
                .containsExactly("pgpubsub_queue_depth_tasks");
        assertThat(seriesIn("histogram_quantile(0.95, sum by (le, channel) (rate(a_seconds_bucket{outcome=\"x y\"}"
                + "[$__rate_interval]))) / on (channel) group_left b_count or up{job=\"pgpubsub\"} == 0 unless c offset 5m"))
                .containsExactlyInAnyOrder("a_seconds_bucket", "b_count", "up", "c");
    }

    /**
     * Runs a listener through success, a failure that is retried, and a dead letter, with the queue
     * measured, and returns the series names a Prometheus scrape then shows.
     */
    private Set<String> seriesAfterEveryOutcome(boolean percentileHistograms) throws Exception {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PgPubSubMetrics metrics = PgPubSubMetrics.of(registry, PgPubSubMetrics.Options.defaults()
                .withPercentileHistograms(percentileHistograms).withQueueDepthInterval(Duration.ofMillis(100)));
        Publisher publisher = Publisher.builder().observer(metrics).build();
        List<Order> orders = LongStream.rangeClosed(1, 4).mapToObj(Order::new).toList();
        publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(ORDERS, orders));
        try (Listener listener = listenerFor(db).workers(1).batchSize(10).recoverOnStart(false).retryPolicy(FAST)
                .observer(metrics)
                .on(ORDERS, (o, ctx) -> {
                    if (o.n() == 2) {
                        throw new IllegalStateException("task 2 always fails");
                    }
                    recordHandled(ctx, o.n(), "m");
                }).start()) {
            await().atMost(AWAIT).until(() -> count(registry, "pgpubsub.tasks.dead.lettered") == 1
                    && count(registry, "pgpubsub.tasks.succeeded") == 3
                    && count(registry, "pgpubsub.tasks.retried") == 1
                    && registry.find("pgpubsub.queue.depth").tag("channel", "orders").gauge() != null);
            assertThat(registry.get("pgpubsub.handler.duration").tag("outcome", "failure").timer().totalTime(
                    TimeUnit.NANOSECONDS)).isPositive();
            return seriesIn(registry);
        }
    }

    private static double count(PrometheusMeterRegistry registry, String counter) {
        var c = registry.find(counter).tag("channel", "orders").counter();
        return c == null ? 0 : c.count();
    }

    /** The series names of a scrape in the Prometheus text format: each sample line's name. */
    private static Set<String> seriesIn(PrometheusMeterRegistry registry) {
        Set<String> names = new TreeSet<>();
        for (String line : registry.scrape().split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    /**
     * The series a PromQL expression selects: its identifiers, once strings, label matchers, ranges,
     * grouping labels, function calls and keywords are set aside (Grafana's {@code $variables} too).
     */
    static Set<String> seriesIn(String promQl) {
        String s = STRING.matcher(promQl).replaceAll(" ");
        s = s.replaceAll("\\{[^}]*}", " ").replaceAll("\\[[^]]*]", " ");
        s = GROUPING.matcher(s).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String rest = s.substring(m.end()).stripLeading();
            if (!rest.startsWith("(") && !KEYWORDS.contains(m.group().toLowerCase())) {
                names.add(m.group());
            }
        }
        return names;
    }

    /**
     * Runs promtool and returns its output when it fails, or an empty string. Without promtool the
     * test is skipped, except on CI ({@code CI=true}), which installs it (Debian package {@code prometheus}).
     */
    private static String promtool(String... args) throws IOException, InterruptedException {
        Path promtool = findPromtool();
        List<String> command = new ArrayList<>();
        command.add(promtool.toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            return String.join(" ", command) + " did not finish in 2 minutes:\n" + output;
        }
        return process.exitValue() == 0 ? "" : String.join(" ", command) + " exited with " + process.exitValue()
                + ":\n" + output;
    }

    private static Path findPromtool() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "promtool"));
            }
        }
        candidates.add(Path.of("/usr/bin/promtool"));
        candidates.add(Path.of("/usr/local/bin/promtool"));
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("promtool is not installed (looked on the PATH, in /usr/bin and "
                    + "/usr/local/bin), and CI=true: install the Debian package prometheus (.ci/run does)");
        }
        Assumptions.abort("promtool is not installed (looked on the PATH, in /usr/bin and /usr/local/bin): install "
                + "it (Debian: apt-get install prometheus) to check the alert rules; with CI=true this test fails instead");
        return null;
    }
}
