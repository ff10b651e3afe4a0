package dev.pgpubsub.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness at its smoke sizes, so that it cannot rot: every scenario runs and reports sane figures. */
class BenchSmokeTest {

    @Test
    void everyScenarioRunsAndWritesItsFiles(@TempDir Path out) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<Result> results = Bench.run(Bench.Settings.parse(new String[] {"--size", "smoke", "--out", out.toString(),
            "--only", String.join(",", Bench.SCENARIOS)}), new PrintStream(printed, true, StandardCharsets.UTF_8));

        assertThat(results).extracting(Result::scenario).contains("burn-down", "channels", "latency", "recovery", "publishing",
                "drivers", "peer", "observability", "priorities", "console", "profile", "burn-down (derived)", "channels (derived)",
                "latency (derived)", "peer (derived)", "observability (derived)", "priorities (derived)");
        // Traced tasks: each handler ran in a span, exported.
        assertThat(results).filteredOn(r -> r.metric().equals("spans/task"))
                .hasSize(2).allSatisfy(r -> assertThat(r.median()).as(r.variant()).isGreaterThanOrEqualTo(1));
        assertThat(results).filteredOn(r -> r.metric().equals("WAL bytes/task"))
                .allSatisfy(r -> assertThat(r.median()).as(r.variant()).isPositive());
        assertThat(results).filteredOn(r -> r.scenario().equals("profile") && r.variant().endsWith(": total"))
                .hasSize(3).allSatisfy(r -> assertThat(r.median()).as(r.variant()).isPositive());
        assertThat(results).filteredOn(r -> r.metric().equals("tasks/s") || r.metric().equals("rows/s"))
                .allSatisfy(r -> assertThat(r.median()).as(r.variant()).isPositive());
        assertThat(results).filteredOn(r -> r.metric().equals("commits/task"))
                .allSatisfy(r -> assertThat(r.median()).as(r.variant()).isPositive().isLessThan(3));
        assertThat(results).filteredOn(r -> r.metric().equals("p50 ms"))
                .allSatisfy(r -> assertThat(r.median()).as(r.variant()).isPositive().isLessThan(10_000));
        // Zero when a short run needed no collection at all.
        assertThat(results).filteredOn(r -> r.metric().equals("heap after GC MiB"))
                .allSatisfy(r -> assertThat(r.median()).as(r.variant()).isGreaterThanOrEqualTo(0).isLessThan(64));

        assertThat(Files.readString(out.resolve("results.json"))).contains("\"machine\"").contains("\"cores\"")
                .contains("\"postgres\"").contains("\"burn-down\"");
        assertThat(Files.readAllLines(out.resolve("results.csv"))).hasSize(results.size() + 1);
        assertThat(Files.size(out.resolve("recovery-heap.png"))).isPositive();
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("median").contains("pgpubsub 1k workers=4 batch=100");
    }
}
