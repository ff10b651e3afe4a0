package dev.pgpubsub.listener.internal.claim;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OutageBackoffTest {

    private static final SQLException TERMINATED = new SQLException("terminating connection due to administrator command", "57P01");
    private static final SQLException REFUSED = new SQLException("Connection refused", "08001");
    private static final SQLException LOCKED = new SQLException("canceling statement due to statement timeout", "57014");

    private final AtomicInteger gaveUp = new AtomicInteger();
    private final OutageBackoff backoff = new OutageBackoff(Duration.ofMinutes(5), e -> gaveUp.incrementAndGet());

    @Test
    void eachConnectionLostUnderATurnWaitsOnlyTheFirstStep() {
        // Every connection of the pool was terminated: the turns meet them one after another.
        for (int i = 1; i <= 10; i++) {
            assertThat(backoff.failed("orders", true, TERMINATED)).as("dead connection %d", i).isBetween(50L, 100L);
        }
        assertThat(gaveUp).hasValue(0);
    }

    @Test
    void connectionsThatKeepDyingAreSparedOnlySoLong() {
        long last = 0;
        for (int i = 0; i < OutageBackoff.MAX_LOST_IN_A_ROW + 4; i++) {
            last = backoff.failed("orders", true, TERMINATED);
        }
        assertThat(last).as("the fourth lost connection past the spared ones").isBetween(400L, 800L);
    }

    @Test
    void noConnectionAtAllIsAnOutageWhoseWaitGrows() {
        long last = 0;
        for (int i = 1; i <= 8; i++) {
            last = backoff.failed("orders", false, REFUSED);
        }
        assertThat(last).as("the eighth failure in a row without a connection").isBetween(6_400L, 12_800L);
    }

    @Test
    void aFailureOnAWorkingConnectionGrowsTheStreak() {
        backoff.failed("orders", true, LOCKED);
        backoff.failed("orders", true, LOCKED);
        assertThat(backoff.failed("orders", true, LOCKED)).isBetween(200L, 400L);
    }

    @Test
    void aSuccessEndsTheChannelsStreakButNotAnotherChannels() {
        for (int i = 0; i < 4; i++) {
            backoff.failed("orders", false, REFUSED);
            backoff.failed("emails", false, REFUSED);
        }
        backoff.succeeded("orders");
        assertThat(backoff.failed("orders", false, REFUSED)).isBetween(50L, 100L);
        assertThat(backoff.failed("emails", false, REFUSED)).isBetween(800L, 1_600L);
    }

    @Test
    void afterTheOutageLimitItGivesUpOnce() {
        OutageBackoff strict = new OutageBackoff(Duration.ZERO, e -> gaveUp.incrementAndGet());
        strict.failed("orders", false, REFUSED); // starts the outage clock
        long next;
        do {
            next = strict.failed("orders", false, REFUSED);
        } while (next >= 0);
        assertThat(strict.failed("orders", false, REFUSED)).isEqualTo(-1);
        assertThat(strict.failed("emails", true, TERMINATED)).isEqualTo(-1);
        assertThat(gaveUp).hasValue(1);
    }
}
