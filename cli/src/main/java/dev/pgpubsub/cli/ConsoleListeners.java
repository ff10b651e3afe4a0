package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.Names;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Listeners page's query: the heartbeat rows the listeners upsert (schema version 10), which say
 * what SQL cannot read of another session (whether its LISTEN is on) and what is gone once tasks are
 * deleted (how many were done). Rows past their expiry are shown greyed until a listener deletes them.
 */
final class ConsoleListeners {

    /** Rows shown at most: a fleet larger than this is not one page's business. */
    static final int MAX_ROWS = 500;

    /** A listener on the page; {@code stale} once its row expired (the process stopped beating). */
    record ListenerRow(String name, String host, long pid, String channels, String state, boolean listening,
            String recovery, String done, String failed, String beatAge, String startedAt, boolean stale) {
        String rowClass() {
            return stale ? "stale" : "state-" + state;
        }

        String listen() {
            return listening ? "on" : "off";
        }
    }

    private final String table;

    ConsoleListeners(String schema) {
        this.table = Names.requireSchema(schema) + ".listener_heartbeat";
    }

    /**
     * The heartbeats, live ones first, by host, process and name; empty when the schema predates
     * version 10 and has no heartbeat table.
     */
    List<ListenerRow> listeners(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return List.of();
                }
            }
        }
        String sql = "SELECT listener, host, pid, array_to_string(channels, ', '), state, listening, recovery_done,"
                + " recovery_estimated, tasks_done, tasks_failed, extract(epoch FROM now() - beat_at)::bigint,"
                + " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), expires_at < now()"
                + " FROM " + table + " ORDER BY expires_at < now(), host, pid, listener LIMIT " + MAX_ROWS;
        List<ListenerRow> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long recoveryDone = rs.getLong(7);
                boolean recovered = !rs.wasNull();
                long estimated = rs.getLong(8);
                // The estimate is the planner's row count at the start: only meaningful while recovery runs.
                String recovery = !recovered ? "-" : "recovering".equals(rs.getString(5))
                        ? String.format(Locale.ROOT, "%,d of ~%,d", recoveryDone, estimated)
                        : String.format(Locale.ROOT, "finished: %,d done", recoveryDone);
                rows.add(new ListenerRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                        rs.getBoolean(6), recovery, String.format("%,d", rs.getLong(9)), String.format("%,d", rs.getLong(10)),
                        age(rs.getLong(11)), rs.getString(12), rs.getBoolean(13)));
            }
        }
        return rows;
    }

    private static String age(long seconds) {
        long s = Math.max(0, seconds);
        return s < 120 ? s + " s" : s < 7200 ? s / 60 + " min" : s / 3600 + " h";
    }
}
