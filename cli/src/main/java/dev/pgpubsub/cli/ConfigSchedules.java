package dev.pgpubsub.cli;

import dev.pgpubsub.listener.Schedule;
import dev.pgpubsub.listener.internal.Durations;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The schedules of the configuration file: keys {@code schedule.<name>.<field>}, where the fields
 * are {@code cron} and {@code zone}, or {@code every}; then {@code channel}, {@code payload} (JSON,
 * default {@code {}}) and {@code catch-up} ({@code true} or {@code false}, default false). Only the
 * file holds schedules: a flag or an environment variable per schedule would be unwieldy.
 */
final class ConfigSchedules {

    /** What every schedule key starts with. */
    static final String PREFIX = "schedule.";

    private static final Set<String> FIELDS = Set.of("cron", "zone", "every", "channel", "payload", "catch-up");

    private ConfigSchedules() {
    }

    /**
     * The file's schedules, by name.
     *
     * @param file  the file's settings
     * @param where the file, for messages
     * @return the schedules, each with its task
     * @throws ConfigError naming the key and the fix when a schedule is not valid
     */
    static List<Schedule> read(Properties file, Object where) {
        Map<String, Map<String, String>> byName = new TreeMap<>();
        for (String key : file.stringPropertyNames()) {
            if (!key.startsWith(PREFIX)) {
                continue;
            }
            String rest = key.substring(PREFIX.length());
            int dot = rest.lastIndexOf('.');
            String field = dot < 0 ? "" : rest.substring(dot + 1);
            if (dot <= 0 || !FIELDS.contains(field)) {
                throw new ConfigError("Setting " + key + " in " + where + " is not a schedule's: write "
                        + "schedule.<name>.<field>, the field one of " + new TreeSet<>(FIELDS)
                        + ", e.g. schedule.orders_report.cron=0 6 * * *");
            }
            byName.computeIfAbsent(rest.substring(0, dot), n -> new TreeMap<>()).put(field, file.getProperty(key).trim());
        }
        List<Schedule> schedules = new ArrayList<>();
        byName.forEach((name, fields) -> schedules.add(schedule(name, fields, where)));
        return schedules;
    }

    private static Schedule schedule(String name, Map<String, String> fields, Object where) {
        String key = PREFIX + name + ".";
        String cron = fields.get("cron");
        String every = fields.get("every");
        String channel = fields.get("channel");
        if ((cron == null) == (every == null)) {
            throw new ConfigError("Schedule '" + name + "' in " + where + " needs exactly one of " + key + "cron (with "
                    + key + "zone) and " + key + "every, e.g. " + key + "cron=0 6 * * * or " + key + "every=5m");
        }
        if (every != null && fields.containsKey("zone")) {
            throw new ConfigError(key + "zone in " + where + " applies to cron schedules only: remove it, or use " + key + "cron");
        }
        if (channel == null) {
            throw new ConfigError("Schedule '" + name + "' in " + where + " has no channel: add " + key + "channel=<name>");
        }
        String catchUp = fields.getOrDefault("catch-up", "false");
        if (!catchUp.equals("true") && !catchUp.equals("false")) {
            throw new ConfigError(key + "catch-up in " + where + " is '" + catchUp + "': write true or false");
        }
        try {
            Schedule schedule = cron != null ? Schedule.cron(name, cron, fields.getOrDefault("zone", "UTC"))
                    : Schedule.every(name, Durations.parse(every));
            schedule = schedule.publish(channel, fields.getOrDefault("payload", "{}"));
            return catchUp.equals("true") ? schedule.catchUp() : schedule;
        } catch (IllegalArgumentException e) {
            throw new ConfigError(e.getMessage() + " (" + key + "* in " + where + ")", e);
        }
    }
}
