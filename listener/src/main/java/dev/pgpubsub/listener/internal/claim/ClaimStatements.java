package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.listener.internal.guard.TransactionControl;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of claiming, all of it. A claim is one statement in the transaction that then runs the
 * handlers: it locks up to a batch of due rows ({@code FOR UPDATE SKIP LOCKED}) and deletes them,
 * within a byte budget for their payloads. Handler writes and deletions commit together, or not at
 * all, and nothing else is written on the way.
 *
 * <p>A row whose xmax is an earlier claim that did not commit is charged for that attempt first
 * ({@code claim_verdict} in the schema): one whose claim the listener released on purpose is
 * charged only if it was the failing task, and one whose claim just vanished (its process died)
 * is charged an attempt that never finished. A claim that finds such rows charges them (a retry
 * delay, or the dead letters after the last attempt), runs nothing, and is committed at once.
 *
 * <p>Every value is bound; only the validated schema name is spliced in, where the migrations have
 * their {@code ${schema}} placeholder.
 */
public final class ClaimStatements {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClaimStatements.class);

    /** What {@code claim_verdict} says of an attempt whose process died; the schema's text, word for word. */
    static final String DIED = "the attempt never finished: its process died or lost its database connection";
    /**
     * How long a released claim is remembered. Its rows keep its id in their xmax until they are
     * claimed again: at once for most, but a row the claim only locked (a retry that became due
     * again under it, or one past the byte budget) waits for its run_at, at most the longest retry
     * delay. Deleted in small slices by each new release.
     */
    static final String RELEASE_TTL = "1 day";

    private final String schema;
    /** The claim by channel for the last batch size asked for (callers use one). */
    private volatile SizedClaim claimDue;
    private final String claimByIds;
    private final String charge;
    private final String release;
    private final String nextDue;
    private final String status;
    private final String buryLoaded;
    private final String restore;

    /**
     * Statements for the installation in {@code schema}.
     *
     * @param schema a valid schema name
     */
    public ClaimStatements(String schema) {
        Names.requireSchema(schema);
        String table = schema + ".notification";
        String released = schema + ".claim_release";
        this.schema = schema;
        this.claimDue = new SizedClaim(100, claim(schema, lockDue(table, 100)));
        // No limit: the ids bound it.
        this.claimByIds = claim(schema, "WITH locked AS MATERIALIZED (SELECT " + LOCKED + " FROM " + table
                + " WHERE id = ANY(?) AND channel = ? AND run_at <= now() ORDER BY priority DESC, run_at, id"
                + " FOR UPDATE SKIP LOCKED),");
        this.charge = charge(schema);
        this.release = "WITH expired AS (DELETE FROM " + released + " WHERE xid IN (SELECT xid FROM " + released
                + " WHERE at < now() - interval '" + RELEASE_TTL + "' LIMIT 100))"
                + " INSERT INTO " + released + " (xid, failed_task, error) VALUES (?, ?, ?)"
                // A second note on one claim (a shutdown after a failure) keeps the failed task of the first.
                + " ON CONFLICT (xid) DO UPDATE SET failed_task = coalesce(excluded.failed_task, " + released + ".failed_task),"
                + " error = coalesce(excluded.error, " + released + ".error)";
        // Not "run_at > now()": a row that became due between the claim and this query would fall
        // in the gap (not due then, not future now) and wait for the safety-net poll.
        this.nextDue = "SELECT extract(epoch FROM min(run_at) - now()) FROM " + table + " WHERE channel = ?";
        this.status = "SELECT pg_xact_status(?::text::xid8)";
        this.buryLoaded = "INSERT INTO " + schema + ".dead_letter (id, channel, payload, created_at, attempts, errors, reason,"
                + " trace_context, key, priority) VALUES (?, ?, ?::jsonb, ?, ?, " + schema + ".append_error(?::jsonb, ?, ?), ?,"
                + " ?::jsonb, ?, ?)";
        // No conflict target: a row still there (by id), or a task published with its key since its
        // deletion committed, which then stands for it, as a pending task with the key would.
        // A task whose key another task holds now (pending, or deleted by a running claim) is dropped for
        // it, as a publish of the key would be; the probe is a plain read, so that the insert never meets
        // a running claim's row in the unique index and waits for its handler.
        this.restore = "INSERT INTO " + table + " (id, channel, payload, created_at, attempts, errors, trace_context, priority,"
                + " key) OVERRIDING SYSTEM VALUE SELECT ?, ?, ?::jsonb, ?, ?, ?::jsonb, ?::jsonb, ?, k.key FROM (SELECT ?::text AS key) k"
                + " WHERE k.key IS NULL OR NOT EXISTS (SELECT 1 FROM " + table + " n WHERE n.channel = ? AND n.key = k.key)"
                + " ON CONFLICT DO NOTHING";
    }

    private record SizedClaim(int limit, String sql) {
    }

    /** The columns the claim locks and reads. */
    private static final String LOCKED = "id, xmax AS previous, channel, run_at, created_at, attempts, errors,"
            + " trace_context, key, priority, payload::text AS body";

    /**
     * The due rows of a channel, locked, in claim order: priority DESC, run_at, id; at most
     * {@code limit}. Parameters: the channel, four times.
     *
     * <p>Always index scans that read a bounded number of pages, however many delayed rows of a
     * high priority wait ahead of the due ones: tasks of priority 0 come from the (channel, run_at,
     * id) index as before; the higher priorities from the partial index (channel, priority DESC,
     * run_at, id) WHERE priority &gt; 0, one priority at a time, highest first (the recursive
     * {@code levels}: one descent each finds the next priority present, and one range scan its due
     * rows). Rows are locked as they are read, and reading stops at the limit: a lower priority is
     * not touched when a higher one fills the batch. Locking clauses stay in subqueries in FROM, where
     * a UNION allows them.
     */
    private static String lockDue(String table, int limit) {
        String next = "(SELECT priority FROM " + table + " WHERE channel = ? AND priority > 0";
        return "WITH RECURSIVE levels (p) AS (SELECT " + next + " ORDER BY priority DESC LIMIT 1)"
                + " UNION ALL SELECT " + next + " AND priority < l.p ORDER BY priority DESC LIMIT 1)"
                + " FROM levels l WHERE l.p IS NOT NULL),"
                // MATERIALIZED: computed exactly once; as a subquery a plan could rescan it and lock again.
                + " locked AS MATERIALIZED (SELECT * FROM ((SELECT x.* FROM levels l CROSS JOIN LATERAL (SELECT " + LOCKED
                + " FROM " + table + " WHERE channel = ? AND priority > 0 AND priority = l.p AND run_at <= now()"
                + " ORDER BY run_at, id LIMIT " + limit + " FOR UPDATE SKIP LOCKED) x WHERE l.p IS NOT NULL)"
                + " UNION ALL (SELECT * FROM (SELECT " + LOCKED + " FROM " + table
                + " WHERE channel = ? AND priority = 0 AND run_at <= now() ORDER BY run_at, id LIMIT " + limit
                + " FOR UPDATE SKIP LOCKED) z)) u LIMIT " + limit + "),";
    }

    /**
     * The claim statement. Parameters: the {@code locked} query's (see {@link #lockDue}; or {@code ids}
     * and {@code channel}), then the byte budget, the largest payload to load (twice), and the handler
     * timeout (twice, for the transaction's own timeouts).
     *
     * <p>The batch size is written into the text: with a parameter there, the server cannot cost a
     * plan made for any value, plans the statement anew for every claim, and a claim of one row
     * costs twice as much on the server. With it, the plan is made once per connection.
     *
     * <p>Rows a verdict charges come back as such and nothing is deleted: the charge is the rare
     * path, a statement of its own ({@link #charge}), and the common path stays lean.
     *
     * @param locked the WITH clause's start, up to and with the {@code locked} query and a comma:
     *               the rows claimed, locked, with the {@link #LOCKED} columns
     */
    private static String claim(String schema, String locked) {
        String table = schema + ".notification";
        String dead = schema + ".dead_letter";
        return locked
                + " judged AS MATERIALIZED (SELECT l.*, CASE WHEN l.previous = '0'::xid THEN NULL"
                + " ELSE " + schema + ".claim_verdict(l.previous, l.id) END AS charge FROM locked l),"
                // Within the byte budget, in claim order; the first row is always taken. None when a
                // row is to be charged first.
                + " picked AS MATERIALIZED (SELECT id FROM (SELECT id, octet_length(body) AS size, sum(octet_length(body))"
                + " OVER (ORDER BY priority DESC, run_at, id) AS upto FROM judged) budget WHERE (upto = size OR upto <= ?)"
                + " AND NOT EXISTS (SELECT 1 FROM judged WHERE charge IS NOT NULL)),"
                + " gone AS (DELETE FROM " + table + " WHERE id = ANY(ARRAY(SELECT id FROM picked)) RETURNING id, xmax AS deleter),"
                // Payloads larger than the listener loads go to the dead letters unread. The insert
                // returns nothing (RETURNING would need SELECT on the dead letters); Postgres runs a
                // data-modifying WITH query whether or not anything reads it.
                + " oversized AS MATERIALIZED (SELECT id FROM judged WHERE id = ANY(ARRAY(SELECT id FROM gone))"
                + " AND octet_length(body) > ?),"
                + " buried AS (INSERT INTO " + dead + " (id, channel, payload, created_at, attempts, errors, reason, trace_context,"
                + " key, priority) SELECT id, channel, body::jsonb, created_at, attempts, errors, 'payload of ' || octet_length(body)"
                + " || ' bytes is larger than the listener loads (' || ? || ' bytes)', trace_context, key, priority FROM judged"
                + " WHERE id = ANY(ARRAY(SELECT id FROM oversized)))"
                // The deleter is this transaction, or the subtransaction it runs in (a driver's
                // autosave, a nested transaction): the id the rows carry, which a release must name.
                // It is 32 bits; the 64-bit id of the top transaction comes with it, close by, and the
                // listener widens it (no function call here: a call to a SQL function costs more
                // than the rest of the claim). The transaction's statements and idle gaps from here
                // on may last up to the handler timeout (set_config(..., true) is SET LOCAL); both
                // are evaluated once.
                + " SELECT j.id, CASE WHEN j.id IN (SELECT id FROM oversized) THEN NULL ELSE j.body END,"
                + " (extract(epoch FROM j.created_at) * 1000000)::bigint, j.attempts + 1, j.errors::text,"
                + " (SELECT deleter::text::bigint FROM gone LIMIT 1),"
                + " (SELECT set_config('idle_in_transaction_session_timeout', ?, true)"
                + " || set_config('statement_timeout', ?, true)), NULL, j.run_at, pg_current_xact_id()::text::bigint,"
                // How long ago the row became due, at the start of this transaction: the lag to its
                // handler's start is measured from here on the listener's clock, so that the two
                // clocks never meet.
                + " (extract(epoch FROM statement_timestamp() - j.run_at) * 1000000)::bigint, j.trace_context::text, j.key,"
                + " j.priority FROM judged j WHERE j.id = ANY(ARRAY(SELECT id FROM gone))"
                + " UNION ALL SELECT id, NULL, NULL, attempts + 1, NULL, NULL, NULL, charge, run_at, NULL, NULL, NULL, NULL,"
                + " priority FROM judged"
                + " WHERE charge IS NOT NULL ORDER BY 14 DESC, 9, 1"; // claim order: priority DESC, run_at, id
    }

    /**
     * Charges locked rows for an attempt that ended without success: due again after their retry
     * delay, or to the dead letters after their last attempt. Parameters: the ids, their errors (in
     * the same order), the retry delays (initial, max, jitter), the max attempts (twice).
     */
    private static String charge(String schema) {
        String table = schema + ".notification";
        String dead = schema + ".dead_letter";
        String error = "(?::text[])[array_position(?::bigint[], n.id)]";
        return "WITH retried AS (UPDATE " + table + " n SET attempts = n.attempts + 1, last_error = " + error + ","
                + " errors = " + schema + ".append_error(n.errors, n.attempts + 1, " + error + "),"
                + " run_at = now() + " + schema + ".retry_delay(n.attempts + 1, ?, ?, ?)"
                + " WHERE n.id = ANY(?::bigint[]) AND n.attempts + 1 < ? RETURNING n.id),"
                + " buried AS (DELETE FROM " + table + " n WHERE n.id = ANY(?::bigint[]) AND n.attempts + 1 >= ?"
                + " RETURNING n.id, n.channel, n.payload, n.created_at, n.attempts + 1 AS attempt, n.errors, n.trace_context,"
                + " n.key, n.priority, " + error + " AS error),"
                + " dead AS (INSERT INTO " + dead + " (id, channel, payload, created_at, attempts, errors, trace_context, key,"
                + " priority, reason) SELECT id, channel, payload, created_at, attempt, " + schema + ".append_error(errors, attempt, error),"
                + " trace_context, key, priority,"
                + " CASE WHEN error = '" + DIED + "' THEN 'attempt ' || attempt || ' of ' || attempt"
                + " || ' never finished (its process died or lost its connection)'"
                + " ELSE 'failed ' || attempt || ' of ' || attempt || ' attempts' END FROM buried)"
                // Every buried row is inserted (or the statement fails): no RETURNING on the dead
                // letters, which would need SELECT on them.
                + " SELECT 'retry', id FROM retried UNION ALL SELECT 'dead', id FROM buried";
    }

    /**
     * Told of each statement before it runs and when it is done (a commit is a statement without a
     * {@link Statement}), so that a watchdog can bound it: the library's statements must not hang.
     */
    interface Watch {
        /** Watches nothing. */
        Watch NONE = new Watch() {
            @Override
            public void running(Statement s) {
            }

            @Override
            public void done() {
            }
        };

        /** A statement (or, with null, a commit) starts. */
        void running(Statement s);

        /** It finished. */
        void done();
    }

    /**
     * The claim SQL, with {@code ?} placeholders, for plan checks: by channel (batches of 100), by
     * ids, and the charge.
     */
    public List<String> claimSql() {
        return List.of(claimDue(100), claimByIds, charge);
    }

    private String claimDue(int limit) {
        SizedClaim sized = claimDue;
        if (sized.limit() != limit) {
            sized = new SizedClaim(limit, claim(schema, lockDue(schema + ".notification", limit)));
            claimDue = sized;
        }
        return sized.sql();
    }

    /**
     * The 64-bit id of the transaction whose 32-bit id is {@code shortId}, given one 64-bit id
     * {@code near} it (less than 2^31 transactions away).
     */
    static long widen(long near, long shortId) {
        return near + (int) (shortId - near);
    }

    /**
     * What a claim did.
     *
     * @param xid     the id of the transaction that deleted the rows, when it runs tasks (0 otherwise)
     * @param run     the tasks to run now, in claim order; their rows are deleted in the open transaction
     * @param retried tasks charged for an earlier attempt that ended without success, due again later
     * @param buried  tasks charged for their last attempt, moved to the dead letters
     */
    public record Claim(long xid, List<ClaimedTask> run, List<Long> retried, List<Long> buried) {

        /** Whether it found no row at all. */
        boolean empty() {
            return run.isEmpty() && retried.isEmpty() && buried.isEmpty();
        }

        /** How many rows it took. */
        int size() {
            return run.size() + retried.size() + buried.size();
        }
    }

    /**
     * Claims up to {@code limit} due rows of {@code channel} in the open transaction. If it charged
     * earlier attempts instead of running tasks, the caller commits at once.
     */
    Claim claimDue(Connection c, Watch watch, String channel, int limit, long byteBudget, ChannelPolicy policy, int maxPayloadBytes)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(claimDue(limit))) {
            for (int i = 1; i <= 4; i++) {
                ps.setString(i, channel); // see lockDue
            }
            return claim(c, ps, watch, 5, channel, byteBudget, policy, maxPayloadBytes);
        }
    }

    /** Claims the rows among {@code ids} that are still due and not held elsewhere; see {@link #claimDue}. */
    Claim claimByIds(Connection c, Watch watch, String channel, long[] ids, long byteBudget, ChannelPolicy policy, int maxPayloadBytes)
            throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(claimByIds)) {
            ps.setArray(1, array);
            ps.setString(2, channel);
            return claim(c, ps, watch, 3, channel, byteBudget, policy, maxPayloadBytes);
        } finally {
            array.free();
        }
    }

    private Claim claim(Connection c, PreparedStatement ps, Watch watch, int from, String channel, long byteBudget,
            ChannelPolicy policy, int maxPayloadBytes) throws SQLException {
        String timeout = policy.handlerTimeout().toMillis() + "ms";
        int i = from;
        ps.setLong(i++, byteBudget);
        ps.setInt(i++, maxPayloadBytes);
        ps.setInt(i++, maxPayloadBytes);
        ps.setString(i++, timeout);
        ps.setString(i, timeout);
        List<ClaimedTask> run = new ArrayList<>();
        List<Long> charged = new ArrayList<>(0);
        List<String> errors = new ArrayList<>(0);
        long xid = 0;
        watch.running(ps);
        long claimedAt = System.nanoTime(); // about the transaction's start: the claim is its first statement
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long id = rs.getLong(1);
                String charge = rs.getString(8);
                if (charge != null) {
                    charged.add(id);
                    errors.add(charge);
                    if (DIED.equals(charge)) {
                        int attempt = rs.getInt(4);
                        try (TaskMdc mdc = new TaskMdc().task(id, channel, attempt)) {
                            LOG.warn("Task {}: attempt {} never finished (its process died or lost its connection)", id,
                                    attempt);
                        }
                    }
                    continue;
                }
                long micros = rs.getLong(3);
                run.add(new ClaimedTask(id, rs.getString(2), Instant.ofEpochSecond(micros / 1_000_000,
                        (micros % 1_000_000) * 1_000), rs.getInt(4), rs.getString(5), claimedAt - rs.getLong(11) * 1_000,
                        rs.getString(12), rs.getString(13), rs.getInt(14)));
                xid = widen(rs.getLong(10), rs.getLong(6));
            }
        } finally {
            watch.done();
        }
        if (charged.isEmpty()) {
            return new Claim(xid, run, List.of(), List.of());
        }
        return charge(c, watch, charged, errors, policy);
    }

    /**
     * Opens a savepoint for the handlers, before the first one runs, in a claim that may hold more
     * than one row. A statement that
     * fails aborts its transaction, and Postgres ends an aborted transaction at once, row locks
     * included, though the session waits for a ROLLBACK: the claimed rows would be free for another
     * worker to claim before the listener has noted the claim as released, and each would be charged
     * an attempt. A handler's failed statement (a duplicate key, say, or a constraint that JPA meets
     * at flush) now aborts only the savepoint, and the claim holds its rows until it rolls back.
     */
    void holdRowsThroughHandlerErrors(Connection c, Watch watch) throws SQLException {
        try (Statement s = c.createStatement()) {
            watch.running(s);
            try {
                s.execute("SAVEPOINT " + TransactionControl.HANDLERS_SAVEPOINT);
            } finally {
                watch.done();
            }
        }
    }

    /** Charges {@code ids} (locked by this transaction) with their errors; nothing runs. */
    private Claim charge(Connection c, Watch watch, List<Long> ids, List<String> errors, ChannelPolicy policy)
            throws SQLException {
        Array idArray = bigints(c, ids.stream().mapToLong(Long::longValue).toArray());
        Array errorArray = c.createArrayOf("text", errors.toArray());
        List<Long> retried = new ArrayList<>();
        List<Long> buried = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(charge)) {
            int i = 1;
            ps.setArray(i++, errorArray);
            ps.setArray(i++, idArray);
            ps.setArray(i++, errorArray);
            ps.setArray(i++, idArray);
            ps.setDouble(i++, seconds(policy.initialDelay()));
            ps.setDouble(i++, seconds(policy.maxDelay()));
            ps.setDouble(i++, policy.jitter());
            ps.setArray(i++, idArray);
            ps.setInt(i++, policy.maxAttempts());
            ps.setArray(i++, idArray);
            ps.setInt(i++, policy.maxAttempts());
            ps.setArray(i++, errorArray);
            ps.setArray(i, idArray);
            watch.running(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    (rs.getString(1).equals("retry") ? retried : buried).add(rs.getLong(2));
                }
            } finally {
                watch.done();
            }
        } finally {
            idArray.free();
            errorArray.free();
        }
        return new Claim(0, List.of(), retried, buried);
    }

    /**
     * Says (in a transaction of its own on {@code c}, committed by the caller before it rolls the claim back) that claim {@code xid} is
     * about to be rolled back on purpose: its rows are not charged, but for {@code failedTask}.
     *
     * @param failedTask the task whose failure ends the claim, or 0 for none
     * @param error      that failure, for its history; null without one
     */
    void release(Connection c, Watch watch, long xid, long failedTask, String error) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(release)) {
            ps.setLong(1, xid);
            if (failedTask == 0) {
                ps.setNull(2, Types.BIGINT);
            } else {
                ps.setLong(2, failedTask);
            }
            ps.setString(3, error);
            run(ps, watch);
        }
    }

    /**
     * Moves a claimed (deleted) task to the dead letters in the open transaction: its payload could
     * not be read, so no attempt will ever succeed.
     */
    void buryLoaded(Connection c, Watch watch, String channel, ClaimedTask task, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(buryLoaded)) {
            ps.setLong(1, task.id());
            ps.setString(2, channel);
            ps.setString(3, task.payload());
            ps.setTimestamp(4, java.sql.Timestamp.from(task.publishedAt()));
            ps.setInt(5, task.attempt());
            ps.setString(6, task.errors());
            ps.setInt(7, task.attempt());
            ps.setString(8, reason);
            ps.setString(9, "payload unreadable: " + reason);
            ps.setString(10, task.traceContext());
            ps.setString(11, task.key());
            ps.setInt(12, task.priority());
            run(ps, watch);
        }
    }

    /** Whether transaction {@code xid} (64-bit) committed, aborted, or is in progress; null when too old to tell. */
    String status(Connection c, Watch watch, long xid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(status)) {
            ps.setString(1, Long.toString(xid));
            watch.running(ps);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            } finally {
                watch.done();
            }
        }
    }

    /** Puts deleted tasks back as they were (due now). */
    void restore(Connection c, Watch watch, String channel, List<ClaimedTask> tasks) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(restore)) {
            for (ClaimedTask t : tasks) {
                ps.setLong(1, t.id());
                ps.setString(2, channel);
                ps.setString(3, t.payload());
                ps.setTimestamp(4, java.sql.Timestamp.from(t.publishedAt()));
                ps.setInt(5, t.attempt() - 1);
                ps.setString(6, t.errors());
                ps.setString(7, t.traceContext());
                ps.setInt(8, t.priority());
                ps.setString(9, t.key());
                ps.setString(10, channel);
                ps.addBatch();
            }
            watch.running(ps);
            try {
                ps.executeBatch();
            } finally {
                watch.done();
            }
        }
    }

    /**
     * Milliseconds until the channel's earliest row is due (0 if one is due already, e.g. it became
     * due since the claim), or -1 if the channel has no rows.
     */
    long millisUntilNextDue(Connection c, Watch watch, String channel) throws SQLException {
        double seconds;
        boolean none;
        try (PreparedStatement ps = c.prepareStatement(nextDue)) {
            ps.setString(1, channel);
            watch.running(ps);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                seconds = rs.getDouble(1);
                none = rs.wasNull();
            } finally {
                watch.done();
            }
        }
        return none ? -1 : Math.max(0, (long) Math.ceil(seconds * 1000));
    }

    private static void run(PreparedStatement ps, Watch watch) throws SQLException {
        watch.running(ps);
        try {
            ps.executeUpdate();
        } finally {
            watch.done();
        }
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /**
     * A bigint[] parameter. The caller must {@link Array#free()} it: pgjdbc-ng keeps its encoding in
     * Netty direct memory until then, and leaks it otherwise.
     */
    private static Array bigints(Connection c, long[] ids) throws SQLException {
        Long[] boxed = new Long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            boxed[i] = ids[i];
        }
        return c.createArrayOf("int8", boxed);
    }
}
