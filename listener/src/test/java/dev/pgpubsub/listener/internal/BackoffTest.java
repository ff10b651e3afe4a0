package dev.pgpubsub.listener.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30));

    @RepeatedTest(20)
    void theDelayDoublesPerFailureAndIsCutAtRandomByUpToHalf() {
        assertThat(backoff.millis(1)).isBetween(50L, 100L);
        assertThat(backoff.millis(2)).isBetween(100L, 200L);
        assertThat(backoff.millis(4)).isBetween(400L, 800L);
    }

    @Test
    void theDelayStopsGrowingAtTheMaximumAndNeverOverflows() {
        assertThat(backoff.millis(20)).isBetween(15_000L, 30_000L);
        assertThat(backoff.millis(Integer.MAX_VALUE)).isBetween(15_000L, 30_000L);
        assertThat(backoff.millis(0)).isZero();
    }
}
