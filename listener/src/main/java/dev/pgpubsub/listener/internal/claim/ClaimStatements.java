package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.Names;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQL of claiming, in two transactions per batch:
 * <ol>
 *   <li><b>count</b>: lock the channel's due rows ({@code FOR UPDATE SKIP LOCKED}), add one to their
 *       attempts and move their run_at to when a retry would be due (at least {@link #CLAIM_LEASE}
 *       ahead), then commit. A claim that dies with its process is thus counted, and its rows come
 *       back after that delay. Rows that
 *       already had their last attempt (it died unfinished) move to the dead letters instead;</li>
 *   <li><b>run</b>: lock the counted rows again by id and delete them,
 *       run the handlers in the same transaction, commit. Handler writes and deletions commit together,
 *       or not at all.</li>
 * </ol>
 * Every value is bound; only the validated schema name is spliced in.
 */
public final class ClaimStatements {

    /** The exponent of the backoff is capped so that {@code power} never overflows. */
    private static final int MAX_EXPONENT = 30;
    /**
     * The shortest claim: rows whose claim died with its process are due again after the longer of
     * this and their retry delay.
     */
    public static final Duration CLAIM_LEASE = Duration.ofSeconds(5);
    /** Failures kept per task: the last ten. */
    static final int ERROR_HISTORY = 10;
    /** {@link #recordFailure} moved the task to the dead letters. */
    public static final long BURIED = -1;
    /** {@link #recordFailure} found no such task. */
    public static final long GONE = -2;
    static final String DIED = "the attempt never finished: its process died or lost its database connection";

    private final String count;
    private final String countByIds;
    private final String lockAndDelete;
    private final String recordFailure;
    private final String bury;
    private final String buryLoaded;
    private final String nextDue;
    private final String release;
    private final String renew;

    /** Statements for the installation in {@code schema}. */
    public ClaimStatements(String schema) {
        Names.requireSchema(schema);
        String table = schema + ".notification";
        String dead = schema + ".dead_letter";
        // The delay after the attempt being counted, cut at random by up to jitter of itself.
        // The claim's lease: the delay a retry of this attempt would get, but at least CLAIM_LEASE, so
        // that a worker briefly stalled between its two steps (a GC pause, a busy CPU) does not see
        // its rows counted again by another worker, charging them an attempt nobody ran.
        String delay = "make_interval(secs => greatest(" + CLAIM_LEASE.toSeconds() + ", least(? * power(2, least(n.attempts, "
                + MAX_EXPONENT + ")), ?) * (1 - ? * random())))";
        // The locked rows are a MATERIALIZED CTE, computed exactly once: as a subquery in FROM, a
        // plan could rescan it per row of the other side, relocking each time (seen to burn CPU for
        // minutes after an ANALYZE changed the estimates).
        // Joins with the CTEs are written as "id = ANY(ARRAY(SELECT ...))": whatever the row estimate
        // of a generic plan, that is an index probe per id, never a scan of the whole table.
        String counting = " AS MATERIALIZED (SELECT id, run_at, attempts FROM " + table + " WHERE %s FOR UPDATE SKIP LOCKED),"
                // Due rows that already had their last attempt: it died unfinished. To the dead letters.
                + " buried AS (DELETE FROM " + table + " WHERE id = ANY(ARRAY(SELECT id FROM due WHERE attempts >= ?))"
                + " RETURNING id, channel, payload, created_at, attempts, errors),"
                + " dead AS (INSERT INTO " + dead + " (id, channel, payload, created_at, attempts, errors, reason)"
                + " SELECT id, channel, payload, created_at, attempts, " + appendError("buried.errors", "attempts", "'" + DIED + "'")
                + ", 'attempt ' || attempts || ' of ' || attempts || ' never finished (its process died or lost its connection)'"
                + " FROM buried RETURNING id),"
                + " counted AS (UPDATE " + table + " n SET attempts = n.attempts + 1, run_at = now() + " + delay
                + " WHERE n.id = ANY(ARRAY(SELECT id FROM due WHERE attempts < ?)) RETURNING n.id, n.attempts)"
                + " SELECT counted.id, due.run_at, counted.attempts FROM counted JOIN due ON due.id = counted.id"
                + " UNION ALL SELECT id, NULL, -1 FROM dead";
        this.count = "WITH due" + counting.formatted("channel = ? AND run_at <= now() ORDER BY run_at, id LIMIT ?");
        this.countByIds = "WITH due" + counting.formatted("id = ANY(?) AND channel = ? AND run_at <= now()");
        // The rows were counted (claimed) by this worker in step 1, so step 2 waits for their locks
        // rather than skipping them: another worker's step 1 that looked at a row a moment ago may
        // still hold its lock, and skipping would leave the row waiting for its retry delay. Locks
        // are taken in id order, so two claimants of the same rows cannot deadlock.
        // The run transaction stays open while handlers run: its statements and idle gaps are bounded
        // by the handler timeout instead of the server's or the library's own (set_config(..., true)
        // is SET LOCAL, evaluated here to save a round trip). Payloads larger than the listener loads
        // go to the dead letters in the same statement, and come back as NULL.
        this.lockAndDelete = "WITH locked AS MATERIALIZED (SELECT id FROM " + table
                + " WHERE id = ANY(?) ORDER BY id FOR UPDATE),"
                + " gone AS (DELETE FROM " + table + " WHERE id = ANY(ARRAY(SELECT id FROM locked))"
                + " AND set_config('idle_in_transaction_session_timeout', ?, true) IS NOT NULL"
                + " AND set_config('statement_timeout', ?, true) IS NOT NULL"
                + " RETURNING id, channel, payload::text AS body, created_at, attempts, errors),"
                + " oversized AS (INSERT INTO " + dead + " (id, channel, payload, created_at, attempts, errors, reason)"
                + " SELECT id, channel, body::jsonb, created_at, attempts, errors, 'payload of ' || octet_length(body)"
                + " || ' bytes is larger than the listener loads (' || ? || ' bytes)' FROM gone WHERE octet_length(body) > ?"
                + " RETURNING id)"
                + " SELECT id, CASE WHEN id IN (SELECT id FROM oversized) THEN NULL ELSE body END, created_at, errors::text FROM gone";
        this.recordFailure = "UPDATE " + table + " n SET last_error = ?, errors = " + appendError("n.errors", "n.attempts", "?")
                + ", run_at = now() + make_interval(secs => least(? * power(2, least(n.attempts - 1, " + MAX_EXPONENT
                + ")), ?) * (1 - ? * random())) WHERE id = ? RETURNING extract(epoch FROM run_at - now())";
        this.bury = "WITH buried AS (DELETE FROM " + table + " WHERE id = ? RETURNING *)"
                + " INSERT INTO " + dead + " (id, channel, payload, created_at, attempts, errors, reason)"
                + " SELECT id, channel, payload, created_at, attempts, " + appendError("buried.errors", "attempts", "?")
                + ", ? FROM buried";
        this.buryLoaded = "INSERT INTO " + dead + " (id, channel, payload, created_at, attempts, errors, reason)"
                + " VALUES (?, ?, ?::jsonb, ?, ?, ?::jsonb, ?)";
        // Not "run_at > now()": a row that became due between the claim and this query would fall
        // in the gap (not due then, not future now) and wait for the safety-net poll.
        this.nextDue = "SELECT extract(epoch FROM min(run_at) - now()) FROM " + table + " WHERE channel = ?";
        this.release = "UPDATE " + table + " SET run_at = now(), attempts = greatest(attempts - 1, 0) WHERE id = ANY(?)";
        this.renew = "UPDATE " + table + " SET run_at = greatest(run_at, now() + make_interval(secs => ?)) WHERE id = ANY(?)";
    }

    /** The SQL of step 1 and step 2, with {@code ?} placeholders, for plan checks. */
    public List<String> claimSql() {
        return List.of(count, countByIds, lockAndDelete);
    }

    /** The history {@code errors} with one more failure, keeping the last {@value #ERROR_HISTORY}. */
    private static String appendError(String errors, String attempt, String error) {
        return "(CASE WHEN jsonb_array_length(" + errors + ") >= " + ERROR_HISTORY + " THEN " + errors + " - 0 ELSE "
                + errors + " END) || jsonb_build_array(jsonb_build_object('attempt', " + attempt + ", 'at', now(), 'error', "
                + error + "::text))";
    }

    /**
     * What step 1 did.
     *
     * @param counted the tasks to run now, in claim order
     * @param buried  ids of tasks moved to the dead letters: their last attempt had died unfinished
     */
    public record Claim(List<ClaimedTask> counted, List<Long> buried) {
    }

    /** Step 1: counts an attempt for up to {@code limit} due rows of {@code channel}; commits. */
    public Claim count(Connection c, String channel, int limit, ChannelPolicy policy) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(count)) {
            ps.setString(1, channel);
            ps.setInt(2, limit);
            bindCounting(ps, 3, policy);
            return committed(c, ps);
        }
    }

    /** Step 1 for rows known by id (start-up recovery): those still due and not locked elsewhere. */
    public Claim countByIds(Connection c, String channel, long[] ids, ChannelPolicy policy) throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(countByIds)) {
            ps.setArray(1, array);
            ps.setString(2, channel);
            bindCounting(ps, 3, policy);
            return committed(c, ps);
        } finally {
            array.free();
        }
    }

    private static void bindCounting(PreparedStatement ps, int from, ChannelPolicy policy) throws SQLException {
        Backoff backoff = policy.backoff();
        ps.setInt(from, policy.maxAttempts());
        ps.setDouble(from + 1, backoff.initialSeconds());
        ps.setDouble(from + 2, backoff.maxSeconds());
        ps.setDouble(from + 3, backoff.jitter());
        ps.setInt(from + 4, policy.maxAttempts());
    }

    private static Claim committed(Connection c, PreparedStatement ps) throws SQLException {
        List<ClaimedTask> tasks = new ArrayList<>();
        List<Long> buried = new ArrayList<>(0);
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                int attempt = rs.getInt(3);
                if (attempt < 0) {
                    buried.add(rs.getLong(1));
                } else {
                    tasks.add(new ClaimedTask(rs.getLong(1), rs.getTimestamp(2).toInstant(), attempt));
                }
            }
        }
        c.commit();
        // RETURNING promises no order; the claim order is (run_at, id).
        tasks.sort((a, b) -> a.dueAt().equals(b.dueAt()) ? Long.compare(a.id(), b.id()) : a.dueAt().compareTo(b.dueAt()));
        return new Claim(tasks, buried);
    }

    /**
     * Step 2: locks (waiting for any other holder) and deletes the given rows in the open transaction,
     * whose statements and idle gaps from then on may last up to {@code handlerTimeout}; returns those
     * still there by id. A payload over {@code maxPayloadBytes} is moved to the dead letters in the
     * same statement and comes back as null. The caller commits or rolls back.
     */
    public Map<Long, LoadedTask> lockAndDelete(Connection c, long[] ids, Duration handlerTimeout, int maxPayloadBytes)
            throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(lockAndDelete)) {
            String timeout = handlerTimeout.toMillis() + "ms";
            ps.setArray(1, array);
            ps.setString(2, timeout);
            ps.setString(3, timeout);
            ps.setInt(4, maxPayloadBytes);
            ps.setInt(5, maxPayloadBytes);
            Map<Long, LoadedTask> loaded = new HashMap<>(ids.length * 2);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp created = rs.getTimestamp(3);
                    loaded.put(rs.getLong(1), new LoadedTask(rs.getLong(1), rs.getString(2), created.toInstant(), rs.getString(4)));
                }
            }
            return loaded;
        } finally {
            array.free();
        }
    }

    /**
     * Moves a loaded (already deleted) task to the dead letters in the open transaction: its payload
     * could not be read, so no attempt will ever succeed.
     */
    public void buryLoaded(Connection c, String channel, LoadedTask task, int attempts, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(buryLoaded)) {
            ps.setLong(1, task.id());
            ps.setString(2, channel);
            ps.setString(3, task.payload());
            ps.setTimestamp(4, Timestamp.from(task.publishedAt()));
            ps.setInt(5, attempts);
            ps.setString(6, task.errors());
            ps.setString(7, reason);
            ps.executeUpdate();
        }
    }

    /**
     * Saves a failure in the task's error history and commits. The task is due again after the
     * backoff of its attempt, or, if that was its last attempt, moves to the dead letters.
     *
     * @return milliseconds until it is due again, {@link #BURIED} if it moved to the dead letters, or
     *         {@link #GONE} if it was not there (e.g. its run committed after all)
     */
    public long recordFailure(Connection c, long id, int attempt, String error, ChannelPolicy policy) throws SQLException {
        if (attempt >= policy.maxAttempts()) {
            int moved;
            try (PreparedStatement ps = c.prepareStatement(bury)) {
                ps.setLong(1, id);
                ps.setString(2, error);
                ps.setString(3, "failed " + attempt + " of " + policy.maxAttempts() + " attempts");
                moved = ps.executeUpdate();
            }
            c.commit();
            return moved == 0 ? GONE : BURIED;
        }
        Backoff backoff = policy.backoff();
        try (PreparedStatement ps = c.prepareStatement(recordFailure)) {
            ps.setString(1, error);
            ps.setString(2, error);
            ps.setDouble(3, backoff.initialSeconds());
            ps.setDouble(4, backoff.maxSeconds());
            ps.setDouble(5, backoff.jitter());
            ps.setLong(6, id);
            long millis = GONE;
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    millis = Math.max(0, (long) Math.ceil(rs.getDouble(1) * 1000));
                }
            }
            c.commit();
            return millis;
        }
    }

    /**
     * Milliseconds until the channel's earliest row is due (0 if one is due already, e.g. it became
     * due since the claim), or -1 if the channel has no rows.
     */
    public long millisUntilNextDue(Connection c, String channel) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(nextDue)) {
            ps.setString(1, channel);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                double seconds = rs.getDouble(1);
                boolean none = rs.wasNull();
                c.commit();
                return none ? -1 : Math.max(0, (long) Math.ceil(seconds * 1000));
            }
        }
    }

    /**
     * Makes rows whose run was aborted by a shutdown (or by another task's timeout in their batch)
     * due at once, without counting the attempt: it was not theirs to fail; commits. Rows already
     * gone are untouched.
     */
    public int release(Connection c, long[] ids) throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(release)) {
            ps.setArray(1, array);
            int released = ps.executeUpdate();
            c.commit();
            return released;
        } finally {
            array.free();
        }
    }

    /**
     * Keeps counted rows that wait for their run (unlocked: their batch failed and they are redone
     * one by one) from becoming due again for {@code lease}, so that no other worker counts them a
     * second time meanwhile; commits.
     */
    public void renew(Connection c, long[] ids, Duration lease) throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(renew)) {
            ps.setDouble(1, lease.toNanos() / 1e9);
            ps.setArray(2, array);
            ps.executeUpdate();
            c.commit();
        } finally {
            array.free();
        }
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
