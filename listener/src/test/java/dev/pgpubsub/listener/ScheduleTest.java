package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Recurring tasks against a real database. The tasks' channel, {@code ticks}, has no handler, so
 * they stay in the table, where each one's {@code run_at} is its slot.
 */
@PostgresTest
class ScheduleTest {

    private static final String TICKS = "ticks";

    private final TestDatabase db;

    ScheduleTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.schedule");
    }

    private ListenerBuilder listener(Schedule schedule) {
        return Fixtures.listenerFor(db).workers(1).on(ORDERS, (o, c) -> { }).schedule(schedule);
    }

    private List<Instant> slots() throws SQLException {
        return db.strings("SELECT (extract(epoch FROM run_at) * 1000)::bigint FROM pgpubsub.notification WHERE channel = '"
                + TICKS + "' ORDER BY run_at").stream().map(ms -> Instant.ofEpochMilli(Long.parseLong(ms))).toList();
    }

    /**
     * Counted from a slot after all three have started: a listener's first tick offers only the
     * latest slot (downtime's rule), so a slot a busy machine made every running listener late for
     * just then may be passed over while the others start.
     */
    @Test
    void threeListenersPublishEveryInteriorSlotOfASecondlyScheduleExactlyOnce() throws Exception {
        Schedule everySecond = Schedule.every("tick", Duration.ofSeconds(1)).publish(TICKS, "{\"report\": \"ticks\"}");
        List<Listener> listeners = new ArrayList<>();
        Instant from;
        try {
            for (int i = 0; i < 3; i++) {
                listeners.add(listener(everySecond).start());
            }
            from = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).plusSeconds(2);
            await().atMost(AWAIT).until(() -> slots().stream().filter(slot -> !slot.isBefore(from)).count() >= 10);
        } finally {
            listeners.forEach(Listener::close);
        }
        List<Instant> all = slots();
        assertThat(new TreeSet<>(all)).as("no slot twice").hasSameSizeAs(all);
        List<Instant> slots = all.stream().filter(slot -> !slot.isBefore(from)).toList();
        Instant last = slots.get(slots.size() - 1);
        assertThat(slots).as("every slot from %s to the last, on whole seconds", from)
                .hasSize((int) Duration.between(from, last).toSeconds() + 1)
                .allSatisfy(slot -> assertThat(slot.toEpochMilli() % 1000).isZero());
        assertThat(db.strings("SELECT DISTINCT payload::text FROM pgpubsub.notification WHERE channel = 'ticks'"))
                .containsExactly("{\"report\": \"ticks\"}");
        assertThat(db.strings("SELECT definition || ' ' || (last_slot = to_timestamp(" + last.toEpochMilli() + " / 1000.0))"
                + " FROM pgpubsub.schedule")).containsExactly("every PT1S true");
    }

    /** A clock the test moves: the scheduler's ticks see it jump, as after a pause of the process. */
    private static final class MovableClock extends Clock {
        private final AtomicReference<Instant> now;

        MovableClock(Instant start) {
            this.now = new AtomicReference<>(start);
        }

        void set(Instant instant) {
            now.set(instant);
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private long lastSlotMillis() throws SQLException {
        return db.number("SELECT coalesce((extract(epoch FROM max(last_slot)) * 1000)::bigint, 0) FROM pgpubsub.schedule");
    }

    @Test
    void aTickThreeSlotsLatePublishesEverySlotItPassedOnceOldestFirst() throws Exception {
        MovableClock clock = new MovableClock(Instant.parse("2026-06-15T12:00:00.500Z"));
        try (Listener listener = listener(Schedule.every("tick", Duration.ofSeconds(1)).publish(TICKS, "{}"))
                .clock(clock).start()) {
            await().atMost(AWAIT).until(() -> lastSlotMillis() == Instant.parse("2026-06-15T12:00:00Z").toEpochMilli());
            // The next tick comes three slots late, as after a pause of the process.
            clock.set(Instant.parse("2026-06-15T12:00:03.500Z"));
            await().atMost(AWAIT).until(() -> lastSlotMillis() == Instant.parse("2026-06-15T12:00:03Z").toEpochMilli());
        }
        assertThat(slots()).containsExactly(Instant.parse("2026-06-15T12:00:00Z"), Instant.parse("2026-06-15T12:00:01Z"),
                Instant.parse("2026-06-15T12:00:02Z"), Instant.parse("2026-06-15T12:00:03Z"));
        assertThat(db.strings("SELECT string_agg(id::text, ',' ORDER BY run_at) = string_agg(id::text, ',' ORDER BY id) "
                + "FROM pgpubsub.notification")).as("published oldest first").containsExactly("t");
    }

    @Test
    void aTickFarLateCatchesUpAtMostTenSlotsAndSkipsTheOlderOnes() throws Exception {
        MovableClock clock = new MovableClock(Instant.parse("2026-06-15T12:00:00.500Z"));
        try (Listener listener = listener(Schedule.every("tick", Duration.ofSeconds(1)).publish(TICKS, "{}"))
                .clock(clock).start()) {
            await().atMost(AWAIT).until(() -> lastSlotMillis() == Instant.parse("2026-06-15T12:00:00Z").toEpochMilli());
            clock.set(Instant.parse("2026-06-15T12:00:30.500Z")); // 30 slots late
            await().atMost(AWAIT).until(() -> lastSlotMillis() == Instant.parse("2026-06-15T12:00:30Z").toEpochMilli());
            clock.set(Instant.parse("2026-06-15T12:10:00.500Z")); // 10 minutes late: beyond the grace
            await().atMost(AWAIT).until(() -> lastSlotMillis() == Instant.parse("2026-06-15T12:10:00Z").toEpochMilli());
        }
        List<Instant> expected = new ArrayList<>(List.of(Instant.parse("2026-06-15T12:00:00Z")));
        for (int s = 21; s <= 30; s++) {
            expected.add(Instant.parse("2026-06-15T12:00:00Z").plusSeconds(s));
        }
        for (int s = 591; s <= 600; s++) { // the ten slots at most the grace late
            expected.add(Instant.parse("2026-06-15T12:00:00Z").plusSeconds(s));
        }
        assertThat(slots()).containsExactlyElementsOf(expected);
    }

    @Test
    void aListenerBackAfterFiveMissedSlotsPublishesOnlyTheLatestOne() throws Exception {
        // As if the schedule's last listener had stopped five slots ago.
        db.execute("INSERT INTO pgpubsub.schedule (name, channel, payload, definition, last_slot) VALUES "
                + "('tick', 'ticks', '{}', 'every PT1S', date_trunc('second', now()) - interval '5 seconds')");
        Instant stopped = Instant.ofEpochMilli(db.number("SELECT (extract(epoch FROM last_slot) * 1000)::bigint FROM pgpubsub.schedule"));
        try (Listener listener = listener(Schedule.every("tick", Duration.ofSeconds(1)).publish(TICKS, "{}")).start()) {
            await().atMost(AWAIT).until(() -> slots().size() >= 2);
        }
        List<Instant> slots = slots();
        // The missed slots stopped+1 .. stopped+4 are not published: the first task is the slot due
        // when the listener came back, which is at least stopped+5.
        assertThat(slots.get(0)).isAfterOrEqualTo(stopped.plusSeconds(5));
        assertThat(new TreeSet<>(slots)).hasSameSizeAs(slots);
    }

    @Test
    void slotsLaterThanTheGraceAreSkippedUnlessTheScheduleCatchesUp() throws Exception {
        // Midnight on 1 January, UTC: the latest slot is months old (the clock is mid-year).
        Clock midYear = Clock.fixed(Instant.parse("2026-06-15T12:00:00Z"), ZoneOffset.UTC);
        db.execute("INSERT INTO pgpubsub.schedule (name, channel, payload, definition, last_slot) VALUES "
                + "('new_year', 'ticks', '{}', 'cron', '2025-01-01T00:00:00Z'), "
                + "('new_year_caught_up', 'ticks', '{}', 'cron', '2025-01-01T00:00:00Z')");
        Schedule newYear = Schedule.cron("new_year", "0 0 1 1 *", ZoneOffset.UTC).publish(TICKS, "{}");
        try (Listener skipping = listener(newYear).clock(midYear).start();
                Listener catching = listener(Schedule.cron("new_year_caught_up", "0 0 1 1 *", ZoneOffset.UTC)
                        .publish(TICKS, "{\"caught\": true}").catchUp()).clock(midYear).start();
                Listener fresh = listener(Schedule.cron("fresh", "0 0 1 1 *", ZoneOffset.UTC).publish(TICKS, "{}").catchUp())
                        .clock(midYear).start()) {
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM pgpubsub.schedule WHERE next_slot IS NOT NULL") == 3);
            await().atMost(AWAIT).until(() -> !slots().isEmpty());
        }
        assertThat(db.strings("SELECT payload::text || ' ' || run_at AT TIME ZONE 'UTC' FROM pgpubsub.notification"))
                .containsExactly("{\"caught\": true} 2026-01-01 00:00:00");
        assertThat(db.strings("SELECT name || ' ' || coalesce((last_slot AT TIME ZONE 'UTC')::text, '-') || ' ' "
                + "|| (next_slot AT TIME ZONE 'UTC') FROM pgpubsub.schedule ORDER BY name")).containsExactly(
                "fresh - 2027-01-01 00:00:00",
                "new_year 2025-01-01 00:00:00 2027-01-01 00:00:00",
                "new_year_caught_up 2026-01-01 00:00:00 2027-01-01 00:00:00");
    }

    @Test
    void aSlotIsPublishedOnceEvenAfterItsTaskIsDoneAndDeleted() throws SQLException {
        String offer = "SELECT pgpubsub.publish_slot('report', 'ticks', '{}', 'every PT1H', '2026-06-01T10:00:00Z', "
                + "'2026-06-01T11:00:00Z') IS NOT NULL";
        assertThat(db.strings(offer)).containsExactly("t");
        db.execute("DELETE FROM pgpubsub.notification"); // the task ran
        assertThat(db.strings(offer)).containsExactly("f");
        assertThat(db.strings(offer.replace("10:00:00Z", "09:00:00Z"))).as("an older slot").containsExactly("f");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void anInvalidCronExpressionOrZoneFailsTheBuildNamingItAndTheFix() {
        assertThatThrownBy(() -> listener(Schedule.cron("report", "0 25 * * *", ZoneId.of("Europe/Paris"))
                .publish(TICKS, "{}")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Schedule 'report': cron expression \"0 25 * * *\" is not valid")
                .hasMessageContaining("minute hour day-of-month month day-of-week");
        assertThatThrownBy(() -> Schedule.cron("report", "0 0 6 * * *", "Europe/Paris"))
                .hasMessageContaining("\"0 0 6 * * *\"");
        assertThatThrownBy(() -> listener(Schedule.cron("report", "0 6 * * *", "Europe/Pariss").publish(TICKS, "{}")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Schedule 'report': time zone \"Europe/Pariss\" is not known")
                .hasMessageContaining("Europe/Paris");
        assertThatThrownBy(() -> listener(Schedule.every("report", Duration.ofSeconds(1))).build())
                .hasMessageContaining("Schedule 'report' has no task");
        assertThatThrownBy(() -> Schedule.every("report", Duration.ofSeconds(1)).publish(TICKS, "{not json"))
                .hasMessageContaining("is not JSON");
    }
}
