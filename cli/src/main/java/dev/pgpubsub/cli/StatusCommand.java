package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.ChannelCounts;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
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

    /** Counts stop here and show as "100,000+". */
    static final int COUNT_CAP = 100_000;
    /** Channels listed at most, the first by name. */
    static final int MAX_CHANNELS = 10_000;

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
        ChannelCounts counts = new ChannelCounts(connection.schema, COUNT_CAP);
        try (Connection c = connection.connectInstalled()) {
            List<String> channels = counts.channels(c, MAX_CHANNELS);
            out.printf("%-32s %10s %10s %14s %10s %12s%n", "channel", "pending", "due", "oldest due", "retrying", "dead letters");
            for (String channel : channels) {
                ChannelCounts.Counts n = counts.counts(c, channel);
                out.printf("%-32s %10s %10s %14s %10s %12s%n", channel, counts.format(n.pending()), counts.format(n.due()),
                        ChannelCounts.formatAge(n.oldestDue()), counts.formatRetrying(n), counts.format(n.dead()));
            }
            if (channels.isEmpty()) {
                out.println("(no pending tasks and no dead letters)");
            } else if (channels.size() == MAX_CHANNELS) {
                out.println("(the first " + MAX_CHANNELS + " channels by name; there may be more)");
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
}
