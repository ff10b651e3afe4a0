package dev.pgpubsub.listener.internal.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;

/**
 * When a schedule is due: its slots, the instants it publishes a task for. Every listener computes
 * the same slots from the same definition, which is what lets the database publish each slot once.
 *
 * <p>A cron expression is matched against the zone's local date-times (cron-utils, Unix definition,
 * evaluated in UTC so that its own handling of daylight saving plays no part); each match is then
 * placed in the zone by {@link ZonedDateTime#ofLocal}: a local time skipped when clocks go forward
 * moves forward by the length of the gap (02:30 becomes 03:30), a local time repeated when clocks go
 * back is its first occurrence (summer time). So a daily 02:30 runs every day, once, and slots that
 * land on one instant are one slot.
 */
public abstract sealed class Slots {

    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    /**
     * The latest slot at or before {@code now}.
     *
     * @param now the instant
     * @return the slot, or null when there is none
     */
    public abstract Instant latest(Instant now);

    /**
     * The first slot after {@code now}.
     *
     * @param now the instant
     * @return the slot, or null when there is none (a cron expression that matches no date)
     */
    public abstract Instant next(Instant now);

    /**
     * Slots of a cron expression in a zone.
     *
     * @param expression five fields: minute, hour, day of month, month, day of week
     * @param zone       the zone its local times are in
     * @return the slots
     * @throws IllegalArgumentException when the expression does not parse (cron-utils' reason)
     */
    public static Slots cron(String expression, ZoneId zone) {
        Cron cron = UNIX.parse(expression).validate();
        return new CronSlots(ExecutionTime.forCron(cron), zone);
    }

    /**
     * Slots every {@code interval}, counted from the epoch (1970-01-01T00:00Z), so that every process
     * finds the same ones: every 1 h is at the top of each hour (UTC), every 1 s at each whole second.
     *
     * @param interval at least a millisecond
     * @return the slots
     */
    public static Slots every(Duration interval) {
        return new IntervalSlots(interval.toMillis());
    }

    private static final class IntervalSlots extends Slots {
        private final long millis;

        IntervalSlots(long millis) {
            this.millis = millis;
        }

        @Override
        public Instant latest(Instant now) {
            return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), millis) * millis);
        }

        @Override
        public Instant next(Instant now) {
            return latest(now).plusMillis(millis);
        }
    }

    private static final class CronSlots extends Slots {
        private final ExecutionTime times;
        private final ZoneId zone;

        CronSlots(ExecutionTime times, ZoneId zone) {
            this.times = times;
            this.zone = zone;
        }

        private Instant place(ZonedDateTime local) {
            return ZonedDateTime.ofLocal(local.toLocalDateTime(), zone, null).toInstant();
        }

        private static ZonedDateTime asUtc(LocalDateTime local) {
            return local.atZone(ZoneOffset.UTC);
        }

        @Override
        public Instant latest(Instant now) {
            // The last local match at or before now's local time (cron-utils' lastExecution excludes
            // its argument: a second later includes it); a match in a gap that moved past now is not due yet.
            ZonedDateTime local = asUtc(LocalDateTime.ofInstant(now, zone).withNano(0).plusSeconds(1));
            for (int i = 0; i < 1_000; i++) {
                Optional<ZonedDateTime> last = times.lastExecution(local);
                if (last.isEmpty()) {
                    return null;
                }
                Instant slot = place(last.get());
                if (!slot.isAfter(now)) {
                    return slot;
                }
                local = last.get();
            }
            return null;
        }

        @Override
        public Instant next(Instant now) {
            // Local matches from before now's local time by the gap clocks jumped forward lately
            // (zero most of the year), as such a match may be placed after now.
            Duration jumped = Duration.ofSeconds(zone.getRules().getOffset(now).getTotalSeconds()
                    - zone.getRules().getOffset(now.minus(Duration.ofDays(2))).getTotalSeconds());
            ZonedDateTime local = asUtc(LocalDateTime.ofInstant(now, zone).minus(jumped.isNegative() ? Duration.ZERO : jumped)
                    .minusSeconds(1));
            for (int i = 0; i < 100_000; i++) {
                Optional<ZonedDateTime> next = times.nextExecution(local);
                if (next.isEmpty()) {
                    return null;
                }
                Instant slot = place(next.get());
                if (slot.isAfter(now)) {
                    return slot;
                }
                local = next.get();
            }
            return null;
        }
    }
}
