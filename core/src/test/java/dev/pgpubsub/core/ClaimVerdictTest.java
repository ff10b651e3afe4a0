package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The schema's judgement of an earlier claim, from the trace it leaves in a row's xmax (version 4). */
@PostgresTest
class ClaimVerdictTest {

    private final TestDatabase db;

    ClaimVerdictTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void oneTask() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification");
        db.execute("DELETE FROM pgpubsub.claim_release");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('orders', '{}'), ('orders', '{}')");
    }

    /** Deletes the rows in a transaction that rolls back, as a claim that ended without a commit; returns its id. */
    private long claimThatRollsBack() throws SQLException {
        return claimThatRollsBack(false);
    }

    /** As above, the deletion in a subtransaction when {@code inSavepoint} (as a driver's autosave runs it). */
    private long claimThatRollsBack(boolean inSavepoint) throws SQLException {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_current_xact_id()"); // the top-level transaction has its id first
                if (inSavepoint) {
                    s.execute("SAVEPOINT s1");
                }
                long xid;
                try (ResultSet rs = s.executeQuery("WITH gone AS (DELETE FROM pgpubsub.notification RETURNING xmax) "
                        + "SELECT DISTINCT pgpubsub.full_xid(xmax), pg_current_xact_id()::text::bigint FROM gone")) {
                    rs.next();
                    xid = rs.getLong(1);
                    if (inSavepoint) {
                        assertThat(xid).as("the subtransaction's id, after the top-level one").isGreaterThan(rs.getLong(2));
                    } else {
                        assertThat(xid).as("the deleter's 64-bit id").isEqualTo(rs.getLong(2));
                    }
                }
                if (inSavepoint) {
                    s.execute("RELEASE SAVEPOINT s1");
                }
                c.rollback();
                return xid;
            }
        }
    }

    private java.util.List<String> verdicts() throws SQLException {
        return db.strings("SELECT coalesce(pgpubsub.claim_verdict(xmax, id), 'none') FROM pgpubsub.notification ORDER BY id");
    }

    @Test
    void aRowNeverClaimedOrOnlyLockedByACommittedTransactionCostsNothing() throws SQLException {
        assertThat(verdicts()).containsOnly("none");
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT id FROM pgpubsub.notification FOR UPDATE");
            }
            c.commit();
        }
        assertThat(db.strings("SELECT count(*)::text FROM pgpubsub.notification WHERE xmax <> '0'")).containsExactly("2");
        assertThat(verdicts()).containsOnly("none");
    }

    @Test
    void aClaimThatVanishedWithoutANoteChargesAnAttemptThatNeverFinished() throws SQLException {
        long xid = claimThatRollsBack();
        assertThat(db.strings("SELECT DISTINCT pgpubsub.full_xid(xmax)::text FROM pgpubsub.notification"))
                .containsExactly(Long.toString(xid));
        assertThat(verdicts()).containsOnly("the attempt never finished: its process died or lost its database connection");
    }

    @Test
    void aReleasedClaimChargesOnlyTheTaskThatFailedWithItsError() throws SQLException {
        long failed = db.number("SELECT min(id) FROM pgpubsub.notification");
        long xid = claimThatRollsBack();
        db.execute("INSERT INTO pgpubsub.claim_release (xid, failed_task, error) VALUES (" + xid + ", " + failed
                + ", 'java.lang.IllegalStateException: boom')");
        assertThat(verdicts()).containsExactly("java.lang.IllegalStateException: boom", "none");
    }

    @Test
    void aClaimReleasedFromASubtransactionIsJudgedByTheSubtransactionsId() throws SQLException {
        long failed = db.number("SELECT min(id) FROM pgpubsub.notification");
        long xid = claimThatRollsBack(true);
        assertThat(db.strings("SELECT DISTINCT pgpubsub.full_xid(xmax)::text FROM pgpubsub.notification"))
                .containsExactly(Long.toString(xid));
        db.execute("INSERT INTO pgpubsub.claim_release (xid, failed_task, error) VALUES (" + xid + ", " + failed + ", 'boom')");
        assertThat(verdicts()).containsExactly("boom", "none");
    }

    @Test
    void theRetryDelayDoublesUpToItsMaximum() throws SQLException {
        assertThat(db.strings("SELECT extract(epoch FROM pgpubsub.retry_delay(a, 1, 5, 0))::text FROM generate_series(1, 5) a"))
                .containsExactly("1.000000", "2.000000", "4.000000", "5.000000", "5.000000");
    }
}
