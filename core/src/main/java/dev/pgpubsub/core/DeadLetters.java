package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.Installation;
import dev.pgpubsub.core.internal.Names;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dead letters of an installation: tasks a listener will not run again on their own. A task
 * becomes one when its last allowed attempt fails (or dies with its process), when its payload
 * does not map to its channel's payload type, or when it is larger than a listener loads. Nothing
 * is lost: list them, fix the cause, then re-queue them (same id, attempts from zero, their
 * listeners woken) or purge them.
 *
 * <pre>{@code
 * DeadLetters dead = DeadLetters.of(dataSource);
 * dead.list("orders", 50).forEach(d -> log.info("{} {}: {}", d.id(), d.reason(), d.errors()));
 * dead.requeueChannel("orders");
 * }</pre>
 */
public final class DeadLetters {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Installation installation;
    private final String schema;

    private DeadLetters(DataSource dataSource, String schema) {
        this(new Installation(dataSource, schema));
    }

    private DeadLetters(Installation installation) {
        this.installation = installation;
        this.schema = installation.schema();
    }

    /**
     * The dead letters of the installation in {@value PgPubSub#DEFAULT_SCHEMA}.
     *
     * @param dataSource the database pgpubsub is installed in
     * @return a view of its dead letters; each call runs its own transaction
     * @throws IllegalArgumentException when {@code dataSource} is null
     */
    public static DeadLetters of(DataSource dataSource) {
        return new DeadLetters(dataSource, PgPubSub.DEFAULT_SCHEMA);
    }

    /**
     * The dead letters of the installation in {@code schema}.
     *
     * @param dataSource the database pgpubsub is installed in
     * @param schema     the schema of the installation
     * @return a view of its dead letters; each call runs its own transaction
     * @throws IllegalArgumentException when {@code dataSource} is null or the schema name is not valid
     */
    public static DeadLetters of(DataSource dataSource, String schema) {
        return new DeadLetters(dataSource, schema);
    }

    /**
     * The same dead letters, with every statement of every call stopped after {@code timeout}: a
     * re-queue or purge that waits on locks, or a large channel, fails with a {@link PgPubSubException}
     * (SQLSTATE 57014) instead of running on. Set with {@code SET LOCAL} in each call's transaction,
     * so it also holds behind PgBouncer in transaction mode. Without it, the server's own
     * {@code statement_timeout} applies.
     *
     * @param timeout at least 1 ms
     * @return a new view; this one is unchanged
     * @throws IllegalArgumentException when {@code timeout} is null, zero or negative
     */
    public DeadLetters withStatementTimeout(Duration timeout) {
        return new DeadLetters(installation.withStatementTimeout(timeout));
    }

    /**
     * Up to {@code limit} dead letters, oldest first.
     *
     * @param channel only this channel's, or null for all
     * @param limit   the most to return; 1 or more
     * @return the dead letters, ordered by when they died
     * @throws IllegalArgumentException when {@code limit} is less than 1
     * @throws PgPubSubException when the database cannot be reached or pgpubsub is not installed there
     */
    public List<DeadLetter> list(String channel, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit is " + limit + "; give 1 or more");
        }
        String sql = "SELECT id, channel, payload::text, created_at, attempts, errors::text, reason, dead_at FROM " + table()
                + (channel == null ? "" : " WHERE channel = ?") + " ORDER BY dead_at, id LIMIT ?";
        return run("list dead letters", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (channel != null) {
                    ps.setString(i++, channel);
                }
                ps.setInt(i, limit);
                List<DeadLetter> letters = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        letters.add(new DeadLetter(rs.getLong(1), rs.getString(2), rs.getString(3),
                                rs.getObject(4, OffsetDateTime.class).toInstant(), rs.getInt(5), failures(rs.getString(6)),
                                rs.getString(7), rs.getObject(8, OffsetDateTime.class).toInstant()));
                    }
                }
                return letters;
            }
        });
    }

    /**
     * How many dead letters each channel has (channels without any are absent), by channel name.
     *
     * @return the counts, keyed and ordered by channel name
     * @throws PgPubSubException when the database cannot be reached or pgpubsub is not installed there
     */
    public Map<String, Long> countByChannel() {
        return run("count dead letters", c -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT channel, count(*) FROM " + table()
                    + " GROUP BY channel ORDER BY channel");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getLong(2));
                }
            }
            return counts;
        });
    }

    /**
     * Puts these dead letters back as pending tasks (same id, attempts from zero, due now; their
     * error history and key kept) and wakes their channels' listeners. Ids that are not dead letters
     * are ignored, and so are dead letters whose key a pending task holds now (that task stands for
     * them; purge them, or re-queue them once it is done).
     *
     * @param ids the ids of the dead letters to re-queue
     * @return how many were re-queued
     * @throws IllegalArgumentException when {@code ids} is null
     * @throws PgPubSubException when the database cannot be reached or pgpubsub is not installed there
     */
    public int requeue(long... ids) {
        return move("WHERE id = ANY(?::bigint[])", ps -> ps.setString(1, bigints(ids)));
    }

    /**
     * Re-queues every dead letter of {@code channel}; see {@link #requeue(long...)}.
     *
     * @param channel the channel whose dead letters to re-queue
     * @return how many were re-queued
     * @throws IllegalArgumentException when the channel name is not valid
     * @throws PgPubSubException when the database cannot be reached or pgpubsub is not installed there
     */
    public int requeueChannel(String channel) {
        String name = Names.requireChannel(channel);
        return move("WHERE channel = ?", ps -> ps.setString(1, name));
    }

    /**
     * Deletes these dead letters for good; returns how many were deleted.
     *
     * @param ids the ids of the dead letters to delete; ids that are not dead letters are ignored
     * @return how many were deleted
     * @throws IllegalArgumentException when {@code ids} is null
     * @throws PgPubSubException when the database cannot be reached or pgpubsub is not installed there
     */
    public int purge(long... ids) {
        return delete("WHERE id = ANY(?::bigint[])", ps -> ps.setString(1, bigints(ids)));
    }

    /**
     * Deletes every dead letter of {@code channel} for good; returns how many were deleted.
     *
     * @param channel the channel whose dead letters to delete
     * @return how many were deleted
     * @throws IllegalArgumentException when the channel name is not valid
     * @throws PgPubSubException when the database cannot be reached or pgpubsub is not installed there
     */
    public int purgeChannel(String channel) {
        String name = Names.requireChannel(channel);
        return delete("WHERE channel = ?", ps -> ps.setString(1, name));
    }

    private int move(String where, Binder binder) {
        // One statement: the rows leave dead_letter and enter notification together, and each
        // channel gets one wake-up, sent when the transaction commits.
        // A dead letter whose key a pending task holds stays: that task stands for it, as it would
        // for a publish of the key (purge it, or re-queue it once that task is done). Of several dead
        // letters with one key, the newest goes back and the others stay, for the same reason.
        String sql = "WITH picked AS (SELECT DISTINCT ON (d.channel, coalesce(d.key, d.id::text)) d.id FROM " + table()
                + " d " + where + " AND NOT (d.key IS NOT NULL AND EXISTS (SELECT 1 FROM " + schema + ".notification n"
                + " WHERE n.channel = d.channel AND n.key = d.key))"
                + " ORDER BY d.channel, coalesce(d.key, d.id::text), d.dead_at DESC, d.id DESC),"
                + " moved AS (DELETE FROM " + table() + " d WHERE d.id IN (SELECT id FROM picked) RETURNING *),"
                + " queued AS (INSERT INTO " + schema + ".notification (id, channel, payload, created_at, run_at, attempts, errors,"
                + " trace_context, key, priority) OVERRIDING SYSTEM VALUE SELECT id, channel, payload, created_at, now(), 0, errors,"
                + " trace_context, key, priority FROM moved RETURNING channel)"
                + " SELECT count(*), pg_notify(? || channel, '') FROM queued GROUP BY channel";
        return run("re-queue dead letters", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                ps.setString(2, schema + ".");
                int moved = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        moved += rs.getInt(1);
                    }
                }
                return moved;
            }
        });
    }

    private int delete(String where, Binder binder) {
        return run("purge dead letters", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table() + " " + where)) {
                binder.bind(ps);
                return ps.executeUpdate();
            }
        });
    }

    private String table() {
        return schema + ".dead_letter";
    }

    /**
     * The ids as an array literal, bound as text: no JDBC {@link java.sql.Array} to free (pgjdbc-ng
     * keeps one's encoding in direct memory until it is freed).
     */
    private static String bigints(long[] ids) {
        if (ids == null) {
            throw new IllegalArgumentException("ids is null: pass the ids of the dead letters");
        }
        StringBuilder literal = new StringBuilder("{");
        for (int i = 0; i < ids.length; i++) {
            literal.append(i == 0 ? "" : ",").append(ids[i]);
        }
        return literal.append('}').toString();
    }

    private static List<DeadLetter.Failure> failures(String json) {
        List<DeadLetter.Failure> failures = new ArrayList<>();
        for (JsonNode node : JSON.readTree(json)) {
            failures.add(new DeadLetter.Failure(node.path("attempt").asInt(),
                    OffsetDateTime.parse(node.path("at").asString()).toInstant(), node.path("error").asString()));
        }
        return failures;
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private <T> T run(String what, Installation.Work<T> work) {
        return installation.inTransaction(what, "Check that pgpubsub is installed there at version 3 or later "
                + "(PgPubSub.migrate) and that the user may write its tables.", work);
    }
}
