package dev.pgpubsub.spring;

import dev.pgpubsub.listener.Schedule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.beans.factory.ListableBeanFactory;

/**
 * The schedules a Spring application declares: the {@code pgpubsub.schedules.<name>.*} properties,
 * checked as the standalone process checks its file's {@code schedule.<name>.*} keys, then the
 * {@link Schedule} beans.
 */
final class ConfiguredSchedules {

    /** A name the binder keeps without brackets. */
    private static final Pattern PLAIN_KEY = Pattern.compile("[a-z0-9-]+");

    private ConfiguredSchedules() {
    }

    /**
     * The schedules of the properties, then those of the context's {@link Schedule} beans.
     *
     * @param properties  the {@code pgpubsub.*} properties
     * @param beanFactory the context's beans
     * @return every schedule, each with its task
     * @throws IllegalStateException naming the property and the fix when a schedule is not valid
     */
    static List<Schedule> find(PgPubSubProperties properties, ListableBeanFactory beanFactory) {
        List<Schedule> schedules = new ArrayList<>();
        properties.getSchedules().forEach((name, settings) -> schedules.add(schedule(name, settings)));
        beanFactory.getBeanProvider(Schedule.class).orderedStream().forEach(schedules::add);
        return schedules;
    }

    private static Schedule schedule(String name, PgPubSubProperties.ScheduleSettings s) {
        String key = "pgpubsub.schedules" + (PLAIN_KEY.matcher(name).matches() ? "." + name : "[" + name + "]");
        if ((s.getCron() == null) == (s.getEvery() == null)) {
            throw refused(key, "Schedule '" + name + "' needs exactly one of " + key + ".cron (with " + key + ".zone) and "
                    + key + ".every, e.g. " + key + ".cron=0 6 * * * or " + key + ".every=5m");
        }
        if (s.getEvery() != null && s.getZone() != null) {
            throw refused(key + ".zone", key + ".zone applies to cron schedules only: remove it, or use " + key + ".cron");
        }
        if (s.getChannel() == null || s.getChannel().isBlank()) {
            throw refused(key + ".channel", "Schedule '" + name + "' has no channel: set " + key + ".channel");
        }
        // One step per property, so that the message names the one that is wrong.
        String step = key;
        try {
            Schedule.every(name, Duration.ofSeconds(1)); // the name
            Schedule schedule;
            if (s.getCron() != null) {
                String zone = s.getZone() == null ? "UTC" : s.getZone();
                step = key + ".zone";
                Schedule.cron(name, "* * * * *", zone);
                step = key + ".cron";
                schedule = Schedule.cron(name, s.getCron(), zone);
            } else {
                step = key + ".every";
                schedule = Schedule.every(name, s.getEvery());
            }
            step = key + ".channel";
            Schedule.every(name, Duration.ofSeconds(1)).publish(s.getChannel(), "{}");
            step = key + ".payload";
            schedule = schedule.publish(s.getChannel(), s.getPayload());
            return s.isCatchUp() ? schedule.catchUp() : schedule;
        } catch (IllegalArgumentException e) {
            throw refused(step, e.getMessage(), e);
        }
    }

    private static IllegalStateException refused(String key, String message) {
        return refused(key, message, null);
    }

    private static IllegalStateException refused(String key, String message, Throwable cause) {
        return new IllegalStateException("The pgpubsub schedule property " + key + " is refused: " + message, cause);
    }

    /**
     * How the schedules read in the start-up log line.
     *
     * @param schedules the schedules
     * @return their names, e.g. {@code [orders-report, heartbeat]}
     */
    static String names(List<Schedule> schedules) {
        return schedules.stream().map(Schedule::name).toList().toString();
    }
}
