package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.ChannelCounts;
import dev.pgpubsub.core.internal.Names;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the console reads, each a bounded query: channels are found by skipping through the
 * {@code (channel, ...)} indexes, one probe per channel; counts stop at {@value #COUNT_CAP}; lists are
 * pages of {@value #PAGE} rows by keyset. Values are returned as they are: the pages escape them.
 */
final class ConsoleQueries {

    /** Counts stop here and show as "10,000+". */
    static final int COUNT_CAP = 10_000;
    /** Channels on the overview at most, the first by name. */
    static final int MAX_CHANNELS = 200;
    /** SQLSTATE of a statement stopped by its timeout. */
    private static final String QUERY_CANCELED = "57014";
    /** How long the overview may take in all: channels past it are left out, and the page says so. */
    static final Duration OVERVIEW_DEADLINE = Duration.ofSeconds(5);
    /** The latest failures of a task shown in its history. */
    static final int ERRORS_SHOWN = 20;
    /** Rows on a page. */
    static final int PAGE = 50;
    /** Characters of a payload shown before "more". */
    static final int PAYLOAD_PREVIEW = 120;
    /** Characters of a payload or an error shown at most, expanded. */
    static final int TEXT_CAP = 10_000;

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    /** A channel on the overview. Counts are text: "10,000+" past the cap. */
    record ChannelRow(String name, String pending, String due, String retrying, String oldestDue, String dead) {
        String link() {
            return "/channel?name=" + ConsolePages.url(name);
        }

        String deadLink() {
            return "/dead-letters?channel=" + ConsolePages.url(name);
        }
    }

    /** One failed attempt. */
    record Failure(int attempt, String at, String error) {
    }

    /** A text shown cut to a preview, expandable to at most {@value #TEXT_CAP} characters. */
    record Shown(String preview, String full, boolean cut, boolean capped, long length) {
        static Shown of(String text, int preview, long length) {
            String value = text == null ? "" : text;
            return new Shown(value.length() > preview ? value.substring(0, preview) : value,
                    value.length() > TEXT_CAP ? value.substring(0, TEXT_CAP) : value, value.length() > preview,
                    length > TEXT_CAP, length);
        }
    }

    /** A pending task on the channel page. */
    record TaskRow(long id, String key, int priority, int attempts, String runAt, boolean due, String createdAt,
            Shown lastError, List<Failure> errors, Shown payload, String cursorAt) {
        boolean hasErrors() {
            return !errors.isEmpty();
        }
    }

    /** A dead letter. */
    record DeadRow(long id, String channel, String key, int priority, int attempts, String reason, String deadAt,
            Shown lastError, List<Failure> errors, Shown payload, String cursorAt) {
        boolean hasErrors() {
            return !errors.isEmpty();
        }
    }

    /** The overview's rows, and why some channels are left out (null when none is). */
    record Overview(List<ChannelRow> channels, String cut) {
    }

    private final String notification;
    private final String deadLetter;
    private final ChannelCounts counts;
    private final Duration statementTimeout;

    /** @param statementTimeout the longest any one statement may run (the page's transaction sets it too) */
    ConsoleQueries(String schema, Duration statementTimeout) {
        this.statementTimeout = statementTimeout;
        String name = Names.requireSchema(schema);
        this.notification = name + ".notification";
        this.deadLetter = name + ".dead_letter";
        this.counts = new ChannelCounts(name, COUNT_CAP);
    }

    /**
     * Per channel of either table, in name order, at most {@value #MAX_CHANNELS}: its counts, capped,
     * and the age of its oldest due task. The page as a whole ends by {@code deadline} (epoch
     * milliseconds): each channel's statements get at most the time left (and at most the statement
     * timeout), and the channels whose turn comes after it, or whose counting it cut, are left out;
     * the overview says so.
     */
    Overview overview(Connection c, long deadline) throws SQLException {
        List<List<String>> found = new ArrayList<>();
        if (!within(c, deadline, () -> found.add(counts.channels(c, MAX_CHANNELS + 1)))) {
            return new Overview(List.of(), late("The channels are"));
        }
        List<String> channels = found.get(0);
        boolean more = channels.size() > MAX_CHANNELS;
        List<ChannelRow> rows = new ArrayList<>();
        for (String channel : more ? channels.subList(0, MAX_CHANNELS) : channels) {
            boolean counted = within(c, deadline, () -> {
                ChannelCounts.Counts n = counts.counts(c, channel);
                rows.add(new ChannelRow(channel, counts.format(n.pending()), counts.format(n.due()),
                        counts.formatRetrying(n), ChannelCounts.formatAge(n.oldestDue()), counts.format(n.dead())));
            });
            if (!counted) {
                return new Overview(rows, late(rows.isEmpty() ? "The channels are"
                        : "The channels after " + rows.get(rows.size() - 1).name() + " are"));
            }
        }
        return new Overview(rows, more ? "Only the first " + MAX_CHANNELS + " channels by name are shown." : null);
    }

    private static String late(String what) {
        return what + " left out: the page took longer than " + OVERVIEW_DEADLINE.toSeconds()
                + " s. The database is slow or busy.";
    }

    @FunctionalInterface
    private interface Step {
        void run() throws SQLException;
    }

    /**
     * Runs {@code step} with its statements stopped at {@code deadline} (and after the statement
     * timeout at most), in a savepoint; false when the time was up, before or during it (only the
     * step's work is undone: the page's transaction goes on).
     */
    private boolean within(Connection c, long deadline, Step step) throws SQLException {
        long left = Math.min(deadline - System.currentTimeMillis(), statementTimeout.toMillis());
        if (left < 1) {
            return false;
        }
        Savepoint before = c.setSavepoint();
        try {
            try (PreparedStatement ps = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
                ps.setString(1, left + "ms");
                ps.executeQuery().close();
            }
            step.run();
            c.releaseSavepoint(before);
            return true;
        } catch (SQLException e) {
            if (!QUERY_CANCELED.equals(e.getSQLState())) {
                throw e;
            }
            c.rollback(before);
            return false;
        }
    }

    /**
     * The channel's pending tasks by run_at (the order of the {@code (channel, run_at, id)} index),
     * after the keyset {@code (afterAt, afterId)} when given; one more than a page, to tell whether
     * another follows.
     */
    List<TaskRow> tasks(Connection c, String channel, OffsetDateTime afterAt, long afterId) throws SQLException {
        String sql = "SELECT id, key, priority, attempts, run_at, run_at <= now(), created_at,"
                + " left(last_error, " + (TEXT_CAP + 1) + "), length(last_error), " + latestErrors() + ","
                + " left(payload::text, " + (TEXT_CAP + 1) + "), length(payload::text)"
                + " FROM " + notification + " WHERE channel = ?" + (afterAt == null ? "" : " AND (run_at, id) > (?, ?)")
                + " ORDER BY run_at, id LIMIT " + (PAGE + 1);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, channel);
            if (afterAt != null) {
                ps.setObject(2, afterAt);
                ps.setLong(3, afterId);
            }
            List<TaskRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    OffsetDateTime runAt = rs.getObject(5, OffsetDateTime.class);
                    rows.add(new TaskRow(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getInt(4), TIME.format(runAt),
                            rs.getBoolean(6), TIME.format(rs.getObject(7, OffsetDateTime.class)),
                            Shown.of(rs.getString(8), PAYLOAD_PREVIEW, rs.getLong(9)), failures(rs.getString(10)),
                            Shown.of(rs.getString(11), PAYLOAD_PREVIEW, rs.getLong(12)), runAt.toString()));
                }
            }
            return rows;
        }
    }

    /**
     * Dead letters, newest first (keyset on {@code (dead_at, id)} descending, before {@code (beforeAt,
     * beforeId)} when given), of one channel or all, whose reason contains {@code reason} (any case)
     * when given; one more than a page.
     */
    List<DeadRow> deadLetters(Connection c, String channel, String reason, OffsetDateTime beforeAt, long beforeId)
            throws SQLException {
        List<Object> args = new ArrayList<>();
        if (channel != null) {
            args.add(channel);
        }
        if (reason != null) {
            args.add("%" + reason.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        }
        if (beforeAt != null) {
            args.add(beforeAt);
            args.add(beforeId);
        }
        String sql = deadLetterSql(channel != null, reason != null, beforeAt != null);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<DeadRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    OffsetDateTime deadAt = rs.getObject(7, OffsetDateTime.class);
                    rows.add(new DeadRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
                            rs.getString(6), TIME.format(deadAt), Shown.of(rs.getString(8), PAYLOAD_PREVIEW, rs.getLong(9)),
                            failures(rs.getString(10)), Shown.of(rs.getString(11), PAYLOAD_PREVIEW, rs.getLong(12)),
                            deadAt.toString()));
                }
            }
            return rows;
        }
    }

    /**
     * The dead-letter page's statement. Parameters, in order, for the parts present: the channel, the
     * reason's ILIKE pattern, the keyset's dead_at and id. Newest first: unfiltered, a backward scan of
     * the {@code (dead_at, id)} index (version 10); by channel, of {@code (channel, dead_at, id)}.
     */
    String deadLetterSql(boolean channel, boolean reason, boolean before) {
        StringBuilder sql = new StringBuilder("SELECT id, channel, key, priority, attempts, reason, dead_at,"
                + " left(errors -> -1 ->> 'error', " + (TEXT_CAP + 1) + "), length(errors -> -1 ->> 'error'),"
                + " " + latestErrors() + ", left(payload::text, " + (TEXT_CAP + 1) + "), length(payload::text)"
                + " FROM " + deadLetter + " WHERE true");
        if (channel) {
            sql.append(" AND channel = ?");
        }
        if (reason) {
            sql.append(" AND reason ILIKE ? ESCAPE '\\'");
        }
        if (before) {
            sql.append(" AND (dead_at, id) < (?, ?)");
        }
        return sql.append(" ORDER BY dead_at DESC, id DESC LIMIT ").append(PAGE + 1).toString();
    }

    /** The channels of both tables, in name order, for the dead-letter filter: at most {@value #MAX_CHANNELS}. */
    List<String> channels(Connection c) throws SQLException {
        return counts.channels(c, MAX_CHANNELS);
    }

    /**
     * The last {@value #ERRORS_SHOWN} entries of {@code errors}, each error cut to {@value #TEXT_CAP}
     * characters, as a JSON array: whole entries, so that the text is always valid JSON however long
     * the history. (The listener keeps it bounded, but a row may have been written otherwise.)
     */
    static String latestErrors() {
        // One read of the column: a history is often stored compressed out of line, and every mention
        // of it in a per-element expression would decompress it again.
        return "(SELECT jsonb_agg(jsonb_build_object('attempt', e -> 'attempt', 'at', e -> 'at', 'error', left(e ->> 'error', "
                + TEXT_CAP + ")) ORDER BY o)::text FROM jsonb_array_elements(jsonb_path_query_array(errors, '$[last - "
                + (ERRORS_SHOWN - 1) + " to last]')) WITH ORDINALITY AS h(e, o))";
    }

    /** The error history, oldest first; a history that is not the expected JSON shows as one entry. */
    private static List<Failure> failures(String json) {
        List<Failure> failures = new ArrayList<>();
        if (json == null) {
            return failures;
        }
        try {
            for (JsonNode node : JSON.readTree(json)) {
                String error = node.path("error").asString("");
                failures.add(new Failure(node.path("attempt").asInt(), node.path("at").asString(""),
                        error.length() > TEXT_CAP ? error.substring(0, TEXT_CAP) : error));
            }
        } catch (RuntimeException e) {
            failures.add(new Failure(0, "", "(the error history is cut or not readable)"));
        }
        return failures;
    }
}
