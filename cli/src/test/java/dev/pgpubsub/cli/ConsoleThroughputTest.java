package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The throughput chart's arithmetic over the heartbeats' cumulative counters, and its drawing. */
class ConsoleThroughputTest {

    private final ConsoleThroughput throughput = new ConsoleThroughput(null, "pgpubsub");

    @Test
    void theFirstReadingIsTheBaselineAndEachLaterOneCountsTheGrowth() {
        throughput.add(Map.of("a", 100L, "b", 50L), Set.of(), 0, 0);
        assertThat(throughput.points()).isEmpty();
        assertThat(throughput.svg()).contains("Collecting").doesNotContain("<polyline");

        // a did 20, b went away, c is new: it started since the last reading, so all of its 30 count.
        throughput.add(Map.of("a", 120L, "c", 30L), Set.of("c"), 10_000, 10_000);
        // a restarted under the same name: its counter went back, and counts from its new value.
        throughput.add(Map.of("a", 5L, "c", 30L), Set.of(), 20_000, 20_000);
        assertThat(throughput.points()).extracting(ConsoleThroughput.Point::done).containsExactly(50L, 5L);
        assertThat(throughput.points().get(0).perSecond()).isEqualTo(5.0);
        assertThat(throughput.svg()).contains("<polyline").contains("now 0.5/s, peak 5.0/s, 2 readings")
                .doesNotContain("<script");
    }

    /**
     * A listener that ran before the console first saw it (its row was late, or past the reading's
     * cap) brings its lifetime counter: only what it does from then on counts, not a spike.
     */
    @Test
    void aListenerFirstSeenLateCountsFromThenOn() {
        throughput.add(Map.of("a", 100L), Set.of(), 0, 0);
        throughput.add(Map.of("a", 110L, "old", 1_000_000L), Set.of(), 10_000, 10_000);
        throughput.add(Map.of("a", 120L, "old", 1_000_040L), Set.of(), 20_000, 20_000);
        assertThat(throughput.points()).extracting(ConsoleThroughput.Point::done).containsExactly(10L, 50L);
    }

    @Test
    void theRingKeepsThirtyMinutes() {
        for (int i = 0; i <= ConsoleThroughput.POINTS + 20; i++) {
            throughput.add(Map.of("a", (long) i), Set.of(), i * 10_000L, i * 10_000L);
        }
        assertThat(throughput.points()).hasSize(ConsoleThroughput.POINTS);
        assertThat(throughput.points().get(throughput.points().size() - 1).at())
                .isEqualTo((ConsoleThroughput.POINTS + 20) * 10_000L);
    }
}
