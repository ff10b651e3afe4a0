package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.Names;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code pgpubsub status}: per channel, rows pending, due, oldest due, retrying, dead letters. Channels are found
 * by skipping through the index (one probe per channel) and counts stop at a cap, so the work is
 * bounded however large the table.
 */
@Command(name = "status", description = "Show, per channel: pending rows, due rows, how long the oldest due row has waited, rows waiting for a retry, dead letters; then the schedules with their last and next run.",
        mixinStandardHelpOptions = true)
final class StatusCommand implements Callable<Integer> {

    /** Counts stop here and show as "100000+". */
    static final int COUNT_CAP = 100_000;

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    private final PrintStream out;

    StatusCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws SQLException {
        String table = Names.requireSchema(connection.schema) + ".notification";
        String deadTable = connection.schema + ".dead_letter";
        try (Connection c = connection.connectInstalled()) {
            TreeSet<String> channels = new TreeSet<>(channels(c, table));
            channels.addAll(channels(c, deadTable));
            out.printf("%-32s %10s %10s %14s %10s %12s%n", "channel", "pending", "due", "oldest due", "retrying", "dead letters");
            for (String channel : channels) {
                out.printf("%-32s %10s %10s %14s %10s %12s%n", channel,
                        capped(c, "SELECT 1 FROM " + table + " WHERE channel = ?", channel),
                        capped(c, "SELECT 1 FROM " + table + " WHERE channel = ? AND run_at <= now()", channel),
                        oldestDue(c, table, channel),
                        capped(c, "SELECT 1 FROM " + table + " WHERE channel = ? AND attempts > 0 AND run_at > now()", channel),
                        capped(c, "SELECT 1 FROM " + deadTable + " WHERE channel = ?", channel));
            }
            if (channels.isEmpty()) {
                out.println("(no pending tasks and no dead letters)");
            }
            schedules(c, connection.schema);
        }
        return ExitCodes.OK;
    }

    /**
     * The schedules (recurring tasks): each with its channel, definition, last slot published and next
     * slot, in UTC. Nothing when the schema predates them (version 8).
     */
    private void schedules(Connection c, String schema) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, schema + ".schedule");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
            }
        }
        String sql = "SELECT name, channel, definition, to_char(last_slot AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
                + " to_char(next_slot AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM " + schema + ".schedule ORDER BY name";
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            boolean any = false;
            while (rs.next()) {
                if (!any) {
                    out.println();
                    out.printf("%-32s %-24s %-20s %-20s %s%n", "schedule", "channel", "last run (UTC)", "next run (UTC)",
                            "definition");
                    any = true;
                }
                out.printf("%-32s %-24s %-20s %-20s %s%n", rs.getString(1), rs.getString(2),
                        rs.getString(4) == null ? "-" : rs.getString(4), rs.getString(5) == null ? "-" : rs.getString(5),
                        rs.getString(3));
            }
        }
    }

    /** Distinct channels by skipping through the (channel, run_at, id) index, one probe each. */
    private static List<String> channels(Connection c, String table) throws SQLException {
        String sql = "WITH RECURSIVE ch AS ("
                + " (SELECT channel FROM " + table + " ORDER BY channel LIMIT 1)"
                + " UNION ALL"
                + " SELECT (SELECT n.channel FROM " + table + " n WHERE n.channel > ch.channel ORDER BY n.channel LIMIT 1)"
                + " FROM ch WHERE ch.channel IS NOT NULL)"
                + " SELECT channel FROM ch WHERE channel IS NOT NULL";
        List<String> names = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static String capped(Connection c, String rows, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (" + rows + " LIMIT " + (COUNT_CAP + 1) + ") r")) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long n = rs.getLong(1);
                return n > COUNT_CAP ? COUNT_CAP + "+" : Long.toString(n);
            }
        }
    }

    private static String oldestDue(Connection c, String table, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT extract(epoch FROM now() - run_at) FROM " + table
                + " WHERE channel = ? AND run_at <= now() ORDER BY run_at, id LIMIT 1")) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "-";
                }
                Duration age = Duration.ofMillis((long) (rs.getDouble(1) * 1000));
                return String.format("%d:%02d:%02d", age.toHours(), age.toMinutesPart(), age.toSecondsPart());
            }
        }
    }
}
