package dev.pgpubsub.listener.internal.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Slots, and daylight saving in Europe/Paris: clocks go forward on 2026-03-29 at 02:00 (to 03:00)
 * and back on 2026-10-25 at 03:00 (to 02:00).
 */
class SlotsTest {

    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    private static List<Instant> slots(Slots slots, String from, int n) {
        List<Instant> out = new ArrayList<>();
        Instant at = Instant.parse(from);
        for (int i = 0; i < n; i++) {
            at = slots.next(at);
            out.add(at);
        }
        return out;
    }

    private static List<Instant> instants(String... utc) {
        return java.util.Arrays.stream(utc).map(Instant::parse).toList();
    }

    @Test
    void aDailyTimeThatClocksSkipRunsAsMuchLaterAsTheyJumped() {
        Slots daily = Slots.cron("30 2 * * *", PARIS);
        // 02:30 CET on the 28th, 03:30 CEST on the 29th (02:30 does not exist), 02:30 CEST on the 30th.
        assertThat(slots(daily, "2026-03-27T12:00:00Z", 3))
                .isEqualTo(instants("2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"));
        assertThat(daily.latest(Instant.parse("2026-03-29T01:29:00Z"))).isEqualTo("2026-03-28T01:30:00Z");
        assertThat(daily.latest(Instant.parse("2026-03-29T01:30:00Z"))).isEqualTo("2026-03-29T01:30:00Z");
    }

    @Test
    void anHourlySlotThatClocksSkipIsOneSlotWithTheNextHour() {
        Slots hourly = Slots.cron("0 * * * *", PARIS);
        // 01:00 CET, then 02:00 (skipped, moved to 03:00 CEST) and 03:00 CEST are one slot, then 04:00 CEST.
        assertThat(slots(hourly, "2026-03-28T23:30:00Z", 3))
                .isEqualTo(instants("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"));
    }

    @Test
    void aLocalTimeThatClocksRepeatRunsOnceTheFirstTime() {
        Slots daily = Slots.cron("30 2 * * *", PARIS);
        // 02:30 CEST on the 25th (not again at 02:30 CET), then 02:30 CET on the 26th.
        assertThat(slots(daily, "2026-10-24T12:00:00Z", 2)).isEqualTo(instants("2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"));
        Slots hourly = Slots.cron("0 * * * *", PARIS);
        // 01:00 CEST, 02:00 CEST, then 03:00 CET: the second 02:00 (CET) is not a slot.
        assertThat(slots(hourly, "2026-10-24T22:30:00Z", 3))
                .isEqualTo(instants("2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"));
        // During the repeated hour, the latest slot is the first 02:00, already past.
        assertThat(hourly.latest(Instant.parse("2026-10-25T01:30:00Z"))).isEqualTo("2026-10-25T00:00:00Z");
    }

    @Test
    void aSlotIsItsOwnLatestSlotAndTheNextOneComesAfterIt() {
        Slots daily = Slots.cron("0 6 * * *", PARIS);
        Instant six = Instant.parse("2026-06-01T04:00:00Z");
        assertThat(daily.latest(six)).isEqualTo(six);
        assertThat(daily.latest(six.minusMillis(1))).isEqualTo("2026-05-31T04:00:00Z");
        assertThat(daily.next(six)).isEqualTo("2026-06-02T04:00:00Z");
        assertThat(daily.next(six.minusMillis(1))).isEqualTo(six);
    }

    @Test
    void intervalsCountFromTheEpoch() {
        Slots every = Slots.every(Duration.ofHours(1));
        Instant at = Instant.parse("2026-06-01T10:59:59.999Z");
        assertThat(every.latest(at)).isEqualTo("2026-06-01T10:00:00Z");
        assertThat(every.next(at)).isEqualTo("2026-06-01T11:00:00Z");
        assertThat(every.latest(Instant.parse("2026-06-01T11:00:00Z"))).isEqualTo("2026-06-01T11:00:00Z");
    }
}
