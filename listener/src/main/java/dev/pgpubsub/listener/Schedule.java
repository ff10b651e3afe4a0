package dev.pgpubsub.listener;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.listener.internal.schedule.Slots;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * A recurring task: a payload published to a channel at each slot of a cron expression or a fixed
 * interval. Give it to {@link ListenerBuilder#schedule(Schedule)}; every listener that declares the
 * same schedule tries each slot, and the database publishes it once (see {@code docs/tasks.md}).
 *
 * <pre>{@code
 * Listener.builder()
 *         ...
 *         .schedule(Schedule.cron("orders_report", "0 6 * * *", ZoneId.of("Europe/Paris"))
 *                 .publish(REPORTS, new ReportDue("orders")))
 *         .schedule(Schedule.every("heartbeat", Duration.ofMinutes(5)).publish("heartbeats", "{}"))
 * }</pre>
 *
 * <p>Cron expressions have the five fields of Unix cron: minute, hour, day of month, month, day of
 * week ({@code 0 6 * * 1-5}: 06:00 on weekdays). Daylight saving: a local time that clocks skip runs
 * as much later as they jumped (02:30 at 03:30), one that they repeat runs once, the first time.
 * Intervals count from the epoch, so {@code every 1h} is at the top of each hour (UTC).
 *
 * <p>After a listener was down, the slots it missed are skipped: a slot is published only while it
 * is at most {@link #GRACE} late, and on start never a slot older than the latest one.
 * {@link #catchUp()} publishes that latest slot however late, once. While a listener runs, a timer
 * tick that comes late (a busy machine, a pause of the process) publishes every slot it passed,
 * oldest first: at most the latest ten, each at most {@link #GRACE} late. Immutable.
 */
public final class Schedule {

    /** How late a slot may be published without {@link #catchUp()}: one minute. */
    public static final Duration GRACE = Duration.ofMinutes(1);

    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_.-]{0,62}");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final String definition;
    private final Slots slots;
    private final String channel;
    private final String payload;
    private final boolean catchUp;

    private Schedule(String name, String definition, Slots slots, String channel, String payload, boolean catchUp) {
        this.name = name;
        this.definition = definition;
        this.slots = slots;
        this.channel = channel;
        this.payload = payload;
        this.catchUp = catchUp;
    }

    /**
     * A schedule of a cron expression (Unix: minute hour day-of-month month day-of-week) in a zone.
     *
     * @param name       unique among the database's schedules: lower-case letters, digits, {@code _ . -}
     * @param expression e.g. {@code "0 6 * * *"} for 06:00 every day
     * @param zone       the zone the expression's times are local to
     * @return the schedule, still without a task: add one with {@code publish}
     * @throws IllegalArgumentException when the name or the expression is not valid, or the zone is null
     */
    public static Schedule cron(String name, String expression, ZoneId zone) {
        requireName(name);
        if (zone == null) {
            throw new IllegalArgumentException("Schedule '" + name + "' has no time zone: give one, e.g. "
                    + "ZoneId.of(\"Europe/Paris\") or ZoneOffset.UTC");
        }
        Slots slots;
        try {
            slots = Slots.cron(expression == null ? "" : expression.trim(), zone);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Schedule '" + name + "': cron expression \"" + expression
                    + "\" is not valid (" + e.getMessage() + "). Write the five fields of Unix cron: minute hour "
                    + "day-of-month month day-of-week, e.g. \"0 6 * * *\" for 06:00 every day.", e);
        }
        return new Schedule(name, "cron \"" + expression.trim() + "\" in " + zone.getId(), slots, null, null, false);
    }

    /**
     * A schedule of a cron expression in a zone given by its id, as a configuration file gives it.
     *
     * @param name       see {@link #cron(String, String, ZoneId)}
     * @param expression see {@link #cron(String, String, ZoneId)}
     * @param zone       a region id such as {@code Europe/Paris}, or {@code UTC}
     * @return the schedule, still without a task
     * @throws IllegalArgumentException when the name, the expression or the zone is not valid
     */
    public static Schedule cron(String name, String expression, String zone) {
        requireName(name);
        ZoneId id;
        try {
            id = ZoneId.of(zone == null ? "" : zone.trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("Schedule '" + name + "': time zone \"" + zone + "\" is not known ("
                    + e.getMessage() + "). Give a region id such as Europe/Paris or America/New_York, or UTC.", e);
        }
        return cron(name, expression, id);
    }

    /**
     * A schedule every {@code interval}, its slots counted from the epoch.
     *
     * @param name     see {@link #cron(String, String, ZoneId)}
     * @param interval whole seconds, at least one
     * @return the schedule, still without a task
     * @throws IllegalArgumentException when the name or the interval is not valid
     */
    public static Schedule every(String name, Duration interval) {
        requireName(name);
        if (interval == null || interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.getNano() != 0) {
            throw new IllegalArgumentException("Schedule '" + name + "': interval " + interval + " is not valid; give "
                    + "whole seconds, at least one, e.g. Duration.ofMinutes(5)");
        }
        return new Schedule(name, "every " + interval, Slots.every(interval), null, null, false);
    }

    /**
     * The task: {@code payload} on {@code channel}, serialized once now with the library's mapper.
     *
     * @param channel the channel
     * @param payload the payload of every task
     * @param <P>     the payload type
     * @return a schedule with that task
     * @throws IllegalArgumentException when an argument is null or the payload does not serialize
     */
    public <P extends Record> Schedule publish(Channel<P> channel, P payload) {
        if (channel == null || payload == null) {
            throw new IllegalArgumentException("Schedule '" + name + "': publish(channel, payload) needs both: got "
                    + channel + ", " + payload);
        }
        String json = new String(PayloadCodec.standard().write(channel.name(), payload), StandardCharsets.UTF_8);
        return new Schedule(name, definition, slots, channel.name(), json, catchUp);
    }

    /**
     * The task: a JSON payload on a channel given by name.
     *
     * @param channel the channel's name
     * @param json    the payload of every task, JSON text
     * @return a schedule with that task
     * @throws IllegalArgumentException when the channel name is not valid or the JSON does not parse
     */
    public Schedule publish(String channel, String json) {
        String valid = Names.requireChannel(channel);
        try {
            JSON.readTree(json == null ? "" : json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("Schedule '" + name + "': the payload " + json + " is not JSON ("
                    + e.getOriginalMessage() + "); give a JSON document, e.g. {} or {\"report\": \"orders\"}", e);
        }
        if (json.isBlank()) {
            throw new IllegalArgumentException("Schedule '" + name + "': the payload is empty; give a JSON document, e.g. {}");
        }
        return new Schedule(name, definition, slots, valid, json, catchUp);
    }

    /**
     * After downtime, publish the latest missed slot once, however late (default: only slots at most
     * {@link #GRACE} late are published). A schedule that never published a slot does not catch up.
     *
     * @return a schedule that catches up
     */
    public Schedule catchUp() {
        return new Schedule(name, definition, slots, channel, payload, true);
    }

    /**
     * Its name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The definition as shown in the schedule table and by {@code pgpubsub status}.
     *
     * @return e.g. {@code cron "0 6 * * *" in Europe/Paris} or {@code every PT5M}
     */
    public String definition() {
        return definition;
    }

    /**
     * The channel its tasks go to.
     *
     * @return the channel, or null while no task was given
     */
    public String channel() {
        return channel;
    }

    /**
     * The payload of its tasks.
     *
     * @return JSON text, or null while no task was given
     */
    public String payload() {
        return payload;
    }

    /**
     * Whether it catches up after downtime.
     *
     * @return true after {@link #catchUp()}
     */
    public boolean catchesUp() {
        return catchUp;
    }

    Slots slots() {
        return slots;
    }

    @Override
    public String toString() {
        return name + ": " + definition + " -> " + channel + (catchUp ? " (catching up)" : "");
    }

    private static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("Schedule name " + (name == null ? null : "'" + name + "'") + " is not "
                    + "valid: give lower-case letters, digits, '_', '.' or '-', starting with a letter or '_', at most 63");
        }
    }
}
