package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The throughput chart's arithmetic over the heartbeats' cumulative counters, its readings, and its drawing. */
@PostgresTest
class ConsoleThroughputTest {

    private final ConsoleThroughput throughput = new ConsoleThroughput(null, "pgpubsub");

    @Test
    void theFirstReadingIsTheBaselineAndEachLaterOneCountsTheGrowth() {
        throughput.add(Map.of("a", 100L, "b", 50L), Map.of("a", 0L, "b", 0L), 0, 0);
        assertThat(throughput.points()).isEmpty();
        assertThat(throughput.svg()).contains("Collecting").doesNotContain("<polyline");

        // a did 20, b went away, c is new: it started since the last reading, so all of its 30 count.
        throughput.add(Map.of("a", 120L, "c", 30L), Map.of("a", 0L, "c", 4_000L), 10_000, 10_000);
        // a restarted under the same name: its counter went back, and counts from its new value.
        throughput.add(Map.of("a", 5L, "c", 30L), Map.of("a", 15_000L, "c", 4_000L), 20_000, 20_000);
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
        long day = 86_400_000L;
        throughput.add(Map.of("a", 100L), Map.of("a", 0L), day, day);
        // "old" started a day before the console saw it (dbAt is the database's clock of each reading).
        throughput.add(Map.of("a", 110L, "old", 1_000_000L), Map.of("a", 0L, "old", 0L), day + 10_000, day + 10_000);
        throughput.add(Map.of("a", 120L, "old", 1_000_040L), Map.of("a", 0L, "old", 0L), day + 20_000, day + 20_000);
        // "late" started 3 s before the previous reading by its own clock (a little behind): it is new.
        throughput.add(Map.of("a", 120L, "old", 1_000_040L, "late", 7L), Map.of("late", day + 17_000), day + 30_000,
                day + 30_000);
        assertThat(throughput.points()).extracting(ConsoleThroughput.Point::done).containsExactly(10L, 50L, 7L);
    }

    /**
     * Readings that find no listener still take the database's clock: a listener that ran for a day
     * before the console first sees it then counts what it does from then on, not its whole counter.
     */
    @Test
    void aReadingWithoutListenersKeepsTheClockSoALongRunningListenerIsNoSpike(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        ConsoleThroughput sampled = new ConsoleThroughput(db.dataSource(), "pgpubsub");
        sampled.sample();
        sampled.sample();
        db.execute("INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening, tasks_done,"
                + " tasks_failed, started_at, beat_at, expires_at) VALUES ('pgpubsub-1', 'app-1', 42, '{orders}', 'running',"
                + " true, 1000000, 0, now() - interval '1 day', now(), now() + interval '1 hour')");
        sampled.sample();
        db.execute("UPDATE pgpubsub.listener_heartbeat SET tasks_done = tasks_done + 40");
        sampled.sample();
        db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        assertThat(sampled.points()).extracting(ConsoleThroughput.Point::done).containsExactly(0L, 0L, 40L);
    }

    @Test
    void theRingKeepsThirtyMinutes() {
        for (int i = 0; i <= ConsoleThroughput.POINTS + 20; i++) {
            throughput.add(Map.of("a", (long) i), Map.of("a", 0L), i * 10_000L, i * 10_000L);
        }
        assertThat(throughput.points()).hasSize(ConsoleThroughput.POINTS);
        assertThat(throughput.points().get(throughput.points().size() - 1).at())
                .isEqualTo((ConsoleThroughput.POINTS + 20) * 10_000L);
    }
}
