package dev.pgpubsub.core.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What {@code status} and the console show per channel, each from a bounded query: channels are found
 * by skipping through the indexes that start with {@code channel} (one probe per channel), counts stop
 * at a cap, and nothing reads more than the cap's rows of a channel. Not part of the public API.
 */
public final class ChannelCounts {

    /**
     * A channel's numbers. A count above the cap is {@code cap + 1}; {@code retrying} is exact while
     * the channel has at most {@code cap} tasks waiting for a later run_at, and a lower bound past that
     * ({@code retryingExact} false): it is counted among the first {@code cap} of them.
     *
     * @param pending       pending tasks
     * @param due           pending tasks whose run_at has come
     * @param retrying      pending tasks that failed at least once and wait for their next attempt
     * @param retryingExact whether {@code retrying} is exact
     * @param oldestDue     how long the oldest due task has waited, or null when none is due
     * @param dead          dead letters
     */
    public record Counts(long pending, long due, long retrying, boolean retryingExact, Duration oldestDue, long dead) {
    }

    private final String notification;
    private final String deadLetter;
    private final int cap;

    /**
     * @param schema the installation's schema, checked
     * @param cap    where counts stop
     */
    public ChannelCounts(String schema, int cap) {
        String name = Names.requireSchema(schema);
        this.notification = name + ".notification";
        this.deadLetter = name + ".dead_letter";
        this.cap = cap;
    }

    /**
     * The channels that have pending tasks or dead letters, in name order, at most {@code limit} of
     * them (the first by name).
     */
    public List<String> channels(Connection c, int limit) throws SQLException {
        TreeSet<String> names = new TreeSet<>(channels(c, notification, limit));
        names.addAll(channels(c, deadLetter, limit));
        List<String> all = new ArrayList<>(names);
        return all.size() > limit ? List.copyOf(all.subList(0, limit)) : all;
    }

    /** The numbers of one channel: five small queries, each bounded by the cap. */
    public Counts counts(Connection c, String channel) throws SQLException {
        long[] retrying = retrying(c, channel);
        return new Counts(capped(c, "SELECT 1 FROM " + notification + " WHERE channel = ?", channel),
                capped(c, "SELECT 1 FROM " + notification + " WHERE channel = ? AND run_at <= now()", channel),
                retrying[0], retrying[1] <= cap, oldestDue(c, channel),
                capped(c, "SELECT 1 FROM " + deadLetter + " WHERE channel = ?", channel));
    }

    /** Distinct channels by skipping through the table's index that starts with channel, one probe each. */
    private static List<String> channels(Connection c, String table, int limit) throws SQLException {
        String sql = "WITH RECURSIVE ch AS ("
                + " (SELECT channel FROM " + table + " ORDER BY channel LIMIT 1)"
                + " UNION ALL"
                + " SELECT (SELECT n.channel FROM " + table + " n WHERE n.channel > ch.channel ORDER BY n.channel LIMIT 1)"
                + " FROM ch WHERE ch.channel IS NOT NULL)"
                + " SELECT channel FROM ch WHERE channel IS NOT NULL LIMIT " + (limit + 1);
        List<String> names = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private long capped(Connection c, String rows, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (" + rows + " LIMIT " + (cap + 1) + ") r")) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Failed tasks waiting for their next attempt, among the first {@code cap + 1} not yet due (in the
     * order of the {@code (channel, run_at, id)} index, so the read stops there): no index covers
     * {@code attempts}, and a channel of many delayed tasks must not be read whole.
     *
     * @return the count, and how many rows were read
     */
    private long[] retrying(Connection c, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE attempts > 0), count(*) FROM (SELECT"
                + " attempts FROM " + notification + " WHERE channel = ? AND run_at > now() ORDER BY run_at, id LIMIT "
                + (cap + 1) + ") r")) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    private Duration oldestDue(Connection c, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT extract(epoch FROM now() - run_at) FROM " + notification
                + " WHERE channel = ? AND run_at <= now() ORDER BY run_at, id LIMIT 1")) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Duration.ofMillis((long) (rs.getDouble(1) * 1000)) : null;
            }
        }
    }

    /** A count as text: {@code 9,999}, or {@code 10,000+} past the cap. */
    public String format(long count) {
        return count > cap ? String.format(Locale.ROOT, "%,d+", cap) : String.format(Locale.ROOT, "%,d", count);
    }

    /** The retrying count as text: a lower bound gets a {@code +}. */
    public String formatRetrying(Counts counts) {
        return counts.retryingExact() ? format(counts.retrying())
                : String.format(Locale.ROOT, "%,d+", Math.min(counts.retrying(), cap));
    }

    /** An age as {@code h:mm:ss}, or {@code -} for none. */
    public static String formatAge(Duration age) {
        return age == null ? "-" : String.format("%d:%02d:%02d", age.toHours(), age.toMinutesPart(), age.toSecondsPart());
    }
}
