package dev.pgpubsub.listener.internal.claim;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class OutageBackoffTest {

    private static final SQLException TERMINATED = new SQLException("terminating connection due to administrator command", "57P01");
    private static final SQLException REFUSED = new SQLException("Connection refused", "08001");

    private final AtomicReference<Throwable> gaveUp = new AtomicReference<>();
    private final OutageBackoff backoff = new OutageBackoff(Duration.ofMinutes(5), gaveUp::set);

    @Test
    void eachDeadConnectionOfAPoolWaitsOnlyTheFirstStep() {
        // Every connection of the pool was terminated: the turns meet them one after another.
        for (int session = 1; session <= 10; session++) {
            assertThat(backoff.failed("orders", session, TERMINATED)).as("connection %d", session).isBetween(50L, 100L);
        }
        assertThat(gaveUp).hasValue(null);
    }

    @Test
    void noConnectionAtAllIsAnOutageWhoseWaitGrows() {
        long last = 0;
        for (int i = 1; i <= 8; i++) {
            last = backoff.failed("orders", 0, REFUSED);
        }
        assertThat(last).as("the eighth failure in a row without a connection").isBetween(6_400L, 12_800L);
    }

    @Test
    void theSameConnectionFailingAgainBacksOff() {
        backoff.failed("orders", 7, TERMINATED);
        backoff.failed("orders", 7, TERMINATED);
        assertThat(backoff.failed("orders", 7, TERMINATED)).isBetween(200L, 400L);
    }

    @Test
    void aSuccessEndsTheChannelsStreaksButNotAnotherChannels() {
        for (int i = 0; i < 4; i++) {
            backoff.failed("orders", 0, REFUSED);
            backoff.failed("emails", 0, REFUSED);
        }
        backoff.succeeded("orders");
        assertThat(backoff.failed("orders", 0, REFUSED)).isBetween(50L, 100L);
        assertThat(backoff.failed("emails", 0, REFUSED)).isBetween(800L, 1_600L);
    }

    @Test
    void afterTheOutageLimitItGivesUpOnce() {
        OutageBackoff strict = new OutageBackoff(Duration.ZERO, gaveUp::set);
        strict.failed("orders", 0, REFUSED); // starts the outage clock
        long next;
        do {
            next = strict.failed("orders", 0, REFUSED);
        } while (next >= 0 && gaveUp.get() == null);
        assertThat(next).isEqualTo(-1);
        assertThat(gaveUp.get()).isSameAs(REFUSED);
    }
}
