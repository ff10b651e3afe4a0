package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.Names;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQL of claiming, in two transactions per batch:
 * <ol>
 *   <li><b>count</b>: lock the channel's due rows ({@code FOR UPDATE SKIP LOCKED}), add one to their
 *       attempts and move their run_at to when a retry would be due, then commit. A claim that dies
 *       with its process is thus counted, and its rows come back after the retry delay;</li>
 *   <li><b>run</b>: lock the counted rows again by id and delete them,
 *       run the handlers in the same transaction, commit. Handler writes and deletions commit together,
 *       or not at all.</li>
 * </ol>
 * Every value is bound; only the validated schema name is spliced in.
 */
public final class ClaimStatements {

    /** The exponent of the backoff is capped so that {@code power} never overflows. */
    private static final int MAX_EXPONENT = 30;

    private final String count;
    private final String countByIds;
    private final String lockAndDelete;
    private final String recordFailure;
    private final String nextDue;
    private final String release;

    /** Statements for the installation in {@code schema}. */
    public ClaimStatements(String schema) {
        Names.requireSchema(schema);
        String table = schema + ".notification";
        String delay = "make_interval(secs => least(? * power(2, least(n.attempts, " + MAX_EXPONENT + ")), ?))";
        // The locked rows are a MATERIALIZED CTE, computed exactly once: as a subquery in FROM, a
        // plan could rescan it per row of the other side, relocking each time (seen to burn CPU for
        // minutes after an ANALYZE changed the estimates).
        this.count = "WITH due AS MATERIALIZED (SELECT id, run_at FROM " + table + " WHERE channel = ? AND run_at <= now()"
                + " ORDER BY run_at, id LIMIT ? FOR UPDATE SKIP LOCKED)"
                + " UPDATE " + table + " n SET attempts = n.attempts + 1, run_at = now() + " + delay
                + " FROM due WHERE n.id = due.id RETURNING n.id, due.run_at, n.attempts";
        this.countByIds = "WITH due AS MATERIALIZED (SELECT id, run_at FROM " + table
                + " WHERE id = ANY(?) AND channel = ? AND run_at <= now() FOR UPDATE SKIP LOCKED)"
                + " UPDATE " + table + " n SET attempts = n.attempts + 1, run_at = now() + " + delay
                + " FROM due WHERE n.id = due.id RETURNING n.id, due.run_at, n.attempts";
        // The rows were counted (claimed) by this worker in step 1, so step 2 waits for their locks
        // rather than skipping them: another worker's step 1 that looked at a row a moment ago may
        // still hold its lock, and skipping would leave the row waiting for its retry delay. Locks
        // are taken in id order, so two claimants of the same rows cannot deadlock.
        // The run transaction stays open while handlers run, idle between their statements: a
        // server-wide idle_in_transaction_session_timeout must not kill it (set_config(..., true) is
        // SET LOCAL, evaluated here to save a round trip). Hung handlers are the handler timeout's job.
        this.lockAndDelete = "WITH locked AS MATERIALIZED (SELECT id FROM " + table
                + " WHERE id = ANY(?) ORDER BY id FOR UPDATE)"
                + " DELETE FROM " + table + " WHERE id IN (SELECT id FROM locked)"
                + " AND set_config('idle_in_transaction_session_timeout', '0', true) IS NOT NULL"
                + " RETURNING id, payload::text, created_at";
        this.recordFailure = "UPDATE " + table + " n SET last_error = ?, run_at = now() + "
                + "make_interval(secs => least(? * power(2, least(n.attempts - 1, " + MAX_EXPONENT + ")), ?)) WHERE id = ?";
        // Not "run_at > now()": a row that became due between the claim and this query would fall
        // in the gap (not due then, not future now) and wait for the safety-net poll.
        this.nextDue = "SELECT extract(epoch FROM min(run_at) - now()) FROM " + table + " WHERE channel = ?";
        this.release = "UPDATE " + table + " SET run_at = now(), attempts = greatest(attempts - 1, 0) WHERE id = ANY(?)";
    }

    /** Step 1: counts an attempt for up to {@code limit} due rows of {@code channel}; commits. In claim order. */
    public List<ClaimedTask> count(Connection c, String channel, int limit, Backoff backoff) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(count)) {
            ps.setString(1, channel);
            ps.setInt(2, limit);
            ps.setDouble(3, backoff.initialSeconds());
            ps.setDouble(4, backoff.maxSeconds());
            return committed(c, ps);
        }
    }

    /** Step 1 for rows known by id (start-up recovery): those still due and not locked elsewhere. */
    public List<ClaimedTask> countByIds(Connection c, String channel, long[] ids, Backoff backoff) throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(countByIds)) {
            ps.setArray(1, array);
            ps.setString(2, channel);
            ps.setDouble(3, backoff.initialSeconds());
            ps.setDouble(4, backoff.maxSeconds());
            return committed(c, ps);
        } finally {
            array.free();
        }
    }

    private static List<ClaimedTask> committed(Connection c, PreparedStatement ps) throws SQLException {
        List<ClaimedTask> tasks = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                tasks.add(new ClaimedTask(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getInt(3)));
            }
        }
        c.commit();
        // RETURNING promises no order; the claim order is (run_at, id).
        tasks.sort((a, b) -> a.dueAt().equals(b.dueAt()) ? Long.compare(a.id(), b.id()) : a.dueAt().compareTo(b.dueAt()));
        return tasks;
    }

    /**
     * Step 2: locks (waiting for any other holder) and deletes the given rows in the open transaction;
     * returns the payloads of those still there by id. The caller commits or rolls back.
     */
    public Map<Long, LoadedTask> lockAndDelete(Connection c, long[] ids) throws SQLException {
        Array array = bigints(c, ids);
        try (PreparedStatement ps = c.prepareStatement(lockAndDelete)) {
            ps.setArray(1, array);
            Map<Long, LoadedTask> loaded = new HashMap<>(ids.length * 2);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp created = rs.getTimestamp(3);
                    loaded.put(rs.getLong(1), new LoadedTask(rs.getLong(1), rs.getString(2), created.toInstant()));
                }
            }
            return loaded;
        } finally {
            array.free();
        }
    }

    /** Saves a failure and makes the row due after the backoff of its attempt; commits. */
    public void recordFailure(Connection c, long id, String error, Backoff backoff) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(recordFailure)) {
            ps.setString(1, error);
            ps.setDouble(2, backoff.initialSeconds());
            ps.setDouble(3, backoff.maxSeconds());
            ps.setLong(4, id);
            ps.executeUpdate();
        }
        c.commit();
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
     * Makes rows whose run was aborted by a shutdown due at once, without counting the attempt
     * (it was the shutdown, not the task); commits. Rows already gone are untouched.
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
