package dev.pgpubsub.core.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * The SQL of publishing, on a plain JDBC {@link Connection} so that it works with any Postgres
 * driver. Every value is bound; the schema name, validated, is the only text spliced in.
 */
public final class PublishStatements {

    private final String single;
    private final String batch;
    private final String singleKeyed;
    private final String batchKeyed;
    private final String singleWithPriority;
    private final String batchWithPriority;

    /** Statements for the installation in {@code schema}. */
    public PublishStatements(String schema) {
        Names.requireSchema(schema);
        // The SQL functions insert and wake, so Java and SQL publishers behave the same, and a
        // publisher needs only EXECUTE on them (they run as their owner), no right on the table.
        this.single = "SELECT " + schema + ".publish(?, ?::jsonb, ?::timestamptz, ?::jsonb)";
        // One round trip for a whole chunk: the payloads travel as one JSON array, rows are inserted
        // in its order (ids ascend with it), and one wake-up is sent.
        this.batch = "SELECT " + schema + ".publish_all(?, ?::jsonb, ?::timestamptz, ?::jsonb)";
        // Each publish uses the shortest form that carries what it has, so that an installation
        // migrated to an earlier version keeps taking what that version knows: a key (version 7),
        // a priority other than 0 (version 9).
        String keys = "(SELECT array_agg(k ORDER BY n) FROM jsonb_array_elements_text(?::jsonb) WITH ORDINALITY AS t(k, n))";
        this.singleKeyed = "SELECT " + schema + ".publish(?, ?::jsonb, ?::timestamptz, ?::jsonb, ?, ?)";
        this.singleWithPriority = "SELECT " + schema + ".publish(?, ?::jsonb, ?::timestamptz, ?::jsonb, ?, ?, ?)";
        // The keys travel as a JSON array too (any driver binds text), parallel to the payloads; none: NULL.
        this.batchKeyed = "SELECT " + schema + ".publish_all(?, ?::jsonb, ?::timestamptz, ?::jsonb, " + keys + ", ?)";
        this.batchWithPriority = "SELECT " + schema + ".publish_all(?, ?::jsonb, ?::timestamptz, ?::jsonb, " + keys
                + ", ?, ?)";
    }

    /**
     * Inserts one task and wakes the channel after commit; returns its id. {@code traceContext} is
     * the JSON object of propagation headers the task carries, or null.
     */
    public long publishOne(Connection c, String channel, String json, Instant runAt, String traceContext)
            throws SQLException {
        return publishOne(c, channel, json, runAt, traceContext, null, "keep", 0);
    }

    /**
     * Inserts one task, or with a {@code key}, keeps or replaces ({@code onConflict}: {@code keep} or
     * {@code replace}) the pending task that holds it; wakes the channel after commit and returns the id.
     * {@code priority}: 0 (the default) to 100.
     */
    public long publishOne(Connection c, String channel, String json, Instant runAt, String traceContext, String key,
            String onConflict, int priority) throws SQLException {
        boolean withPriority = priority != 0;
        boolean withKey = withPriority || key != null;
        String sql = withPriority ? singleWithPriority : withKey ? singleKeyed : single;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, channel);
            ps.setString(2, json);
            setRunAt(ps, 3, runAt);
            setTraceContext(ps, 4, traceContext);
            if (withKey) {
                ps.setString(5, key);
                ps.setString(6, onConflict);
            }
            if (withPriority) {
                ps.setInt(7, priority);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Inserts the tasks whose payloads form the JSON array {@code jsonArray}, in order, and wakes the
     * channel after commit; returns their ids in the same order. All carry {@code traceContext}
     * (or none, when null).
     */
    public long[] publishChunk(Connection c, String channel, String jsonArray, Instant runAt, String traceContext)
            throws SQLException {
        return publishChunk(c, channel, jsonArray, runAt, traceContext, null, "keep", 0);
    }

    /**
     * As {@link #publishChunk(Connection, String, String, Instant, String)}, each task with the key
     * at its position in the JSON array of strings {@code keysJsonArray} (null: no keys), and all
     * with {@code priority}.
     */
    public long[] publishChunk(Connection c, String channel, String jsonArray, Instant runAt, String traceContext,
            String keysJsonArray, String onConflict, int priority) throws SQLException {
        boolean withPriority = priority != 0;
        boolean withKey = withPriority || keysJsonArray != null;
        String sql = withPriority ? batchWithPriority : withKey ? batchKeyed : batch;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, channel);
            ps.setString(2, jsonArray);
            setRunAt(ps, 3, runAt);
            setTraceContext(ps, 4, traceContext);
            if (withKey) {
                ps.setString(5, keysJsonArray);
                ps.setString(6, onConflict);
            }
            if (withPriority) {
                ps.setInt(7, priority);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Array ids = rs.getArray(1);
                try {
                    Object[] values = (Object[]) ids.getArray();
                    long[] out = new long[values.length];
                    for (int i = 0; i < values.length; i++) {
                        out[i] = ((Number) values[i]).longValue();
                    }
                    return out;
                } finally {
                    ids.free();
                }
            }
        }
    }

    private static void setTraceContext(PreparedStatement ps, int index, String traceContext) throws SQLException {
        if (traceContext == null) {
            ps.setNull(index, Types.VARCHAR);
        } else {
            ps.setString(index, traceContext);
        }
    }

    // OffsetDateTime is the JDBC 4.2 type of timestamptz, which every current driver binds.
    private static void setRunAt(PreparedStatement ps, int index, Instant runAt) throws SQLException {
        if (runAt == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(index, runAt.atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
        }
    }
}
