package dev.pgpubsub.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.listener.internal.claim.ClaimStatements;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The claim statements probe indexes even under a generic plan (which a driver's prepared
 * statement gets after a few executions, and which knows neither the batch size nor the ids): a
 * plan that scans the whole table per claim once made a 200,000-row backlog drain three times slower.
 */
@PostgresTest
class ClaimPlanTest {

    private static final String IDS = "'{" + String.join(",", java.util.stream.IntStream.rangeClosed(1, 100)
            .mapToObj(Integer::toString).toList()) + "}'";

    /** A claim by channel names it four times: the priorities present (twice), then the rows of each. */
    private static final String BY_CHANNEL_TYPES = "text, text, text, text";
    private static final String BY_CHANNEL_VALUES = "'orders', 'orders', 'orders', 'orders'";

    private static final List<String> CLAIM_TYPES = List.of("bigint", "int", "int", "text", "text");
    private static final List<String> CLAIM_VALUES = List.of("8388608", "8388608", "8388608", "'5min'", "'5min'");

    /** 50,000 due rows, analyzed: enough that a plan scanning the table would cost more than probing it. */
    private static void backlog(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) SELECT 'orders', jsonb_build_object('n', g) "
                + "FROM generate_series(1, 50000) g");
        db.execute("ANALYZE pgpubsub.notification");
    }

    /**
     * A claim is planned once per connection, not once per claim: with the batch size
     * as a parameter the server kept making a custom plan for every claim (it cannot cost a generic
     * plan for an unknown LIMIT), which doubled the server's time for a claim of one row.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void theClaimIsPlannedOnce(int which, TestDatabase db) throws Exception {
        backlog(db);
        String sql = numbered(new ClaimStatements("pgpubsub").claimSql().get(which));
        String rows = which == 0 ? BY_CHANNEL_TYPES : "bigint[], text";
        String rowValues = which == 0 ? BY_CHANNEL_VALUES : IDS + ", 'orders'";
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("PREPARE claim(" + rows + ", " + String.join(", ", CLAIM_TYPES) + ") AS " + sql);
            for (int i = 0; i < 10; i++) {
                // Plans the way an execution does, without running it.
                try (ResultSet rs = s.executeQuery("EXPLAIN EXECUTE claim(" + rowValues + ", " + String.join(", ", CLAIM_VALUES) + ")")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'claim'")) {
                assertThat(rs.next()).isTrue();
                // The server tries five custom plans before it weighs the generic one.
                assertThat(rs.getLong(1)).as("generic plans").isEqualTo(5);
                assertThat(rs.getLong(2)).as("custom plans").isEqualTo(5);
            }
            c.rollback();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void noClaimStatementScansTheTable(int which, TestDatabase db) throws Exception {
        backlog(db);
        String sql = numbered(new ClaimStatements("pgpubsub").claimSql().get(which));
        List<String> types = new ArrayList<>();
        List<String> values = new ArrayList<>();
        if (which < 2) {
            // The rows (by channel, or by ids and channel), then: byte budget, the largest payload
            // twice, the handler timeout twice.
            types.addAll(which == 0 ? List.of(BY_CHANNEL_TYPES) : List.of("bigint[]", "text"));
            values.addAll(which == 0 ? List.of(BY_CHANNEL_VALUES) : List.of(IDS, "'orders'"));
            types.addAll(CLAIM_TYPES);
            values.addAll(CLAIM_VALUES);
        } else {
            // The charge: errors and ids (twice), retry delays (initial, max, jitter), ids and max
            // attempts (twice), errors and ids.
            String errors = "'{" + String.join(",", java.util.Collections.nCopies(100, "boom")) + "}'";
            types.addAll(List.of("text[]", "bigint[]", "text[]", "bigint[]", "float8", "float8", "float8", "bigint[]", "int",
                    "bigint[]", "int", "text[]", "bigint[]"));
            values.addAll(List.of(errors, IDS, errors, IDS, "1", "3600", "0.2", IDS, "25", IDS, "25", errors, IDS));
        }
        StringBuilder plan = new StringBuilder();
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL plan_cache_mode = force_generic_plan");
            s.execute("PREPARE claim(" + String.join(", ", types) + ") AS " + sql);
            try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE claim(" + String.join(", ", values) + ")")) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            c.rollback();
        }
        assertThat(plan.toString()).as("generic plan of %s", sql).doesNotContain("Seq Scan").contains("Index");
    }

    /**
     * Priorities keep the claim an index scan that reads a bounded number of pages: 200,000 delayed
     * tasks (half of them of a high priority) ahead of the due ones cost a claim of 100 rows a page
     * or so per row more (deeper indexes), not a walk over the priority index, under a generic plan;
     * and the claim takes priority first. Each measurement claims fresh rows, and commits: a
     * rolled-back claim would leave its rows to be charged by the next.
     */
    @Test
    void delayedTasksOfAHighPriorityCostAClaimNothing(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        try {
            Claimed before = claimOnce(db, false);
            Claimed after = claimOnce(db, true);

            assertThat(after.plan()).as(after.plan()).doesNotContain("Seq Scan").contains("notification_channel_priority")
                    .contains("notification_channel_run_at_id");
            assertThat(after.left()).as("priority 5 (50 rows) first, then the 50 oldest of priority 0; none delayed")
                    .containsExactly("0 due 1900, oldest left 52", "90 delayed 100000", "0 delayed 100000");
            // Deeper indexes add a page to each descent (about one per row claimed, for the deletes by
            // id); reading past the delayed rows would add every page of the priority index.
            long indexPages = db.number("SELECT pg_relation_size('pgpubsub.notification_channel_priority') / 8192");
            assertThat(indexPages).as("pages of the priority index").isGreaterThan(300);
            assertThat(after.buffers()).as("pages read by the claim with 200,000 delayed rows ahead, %d without them",
                    before.buffers()).isLessThanOrEqualTo(before.buffers() + 150);
        } finally {
            db.execute("TRUNCATE pgpubsub.notification");
        }
    }

    private record Claimed(String plan, long buffers, List<String> left) {
    }

    /**
     * Seeds 2,000 due tasks (one in 40 of priority 5), and with {@code delayed} 200,000 more due in
     * an hour (half of priority 90); runs and commits one claim of 100 rows under a generic plan:
     * its plan, the pages it read, and what is left.
     */
    private static Claimed claimOnce(TestDatabase db, boolean delayed) throws Exception {
        db.execute("TRUNCATE pgpubsub.notification");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at, priority) SELECT 'orders', "
                + "jsonb_build_object('n', g), now() - interval '1 hour' + g * interval '1 ms', "
                + "CASE WHEN g % 40 = 0 THEN 5 ELSE 0 END FROM generate_series(1, 2000) g");
        if (delayed) {
            db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at, priority) SELECT 'orders', "
                    + "jsonb_build_object('n', g), now() + interval '1 hour', CASE WHEN g % 2 = 0 THEN 90 ELSE 0 END "
                    + "FROM generate_series(1, 200000) g");
        }
        db.execute("VACUUM ANALYZE pgpubsub.notification");
        String sql = numbered(new ClaimStatements("pgpubsub").claimSql().get(0));
        String args = BY_CHANNEL_VALUES + ", " + String.join(", ", CLAIM_VALUES);
        String plan;
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL plan_cache_mode = force_generic_plan");
            s.execute("PREPARE claim(" + BY_CHANNEL_TYPES + ", " + String.join(", ", CLAIM_TYPES) + ") AS " + sql);
            try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, FORMAT JSON) EXECUTE claim(" + args + ")")) {
                rs.next();
                plan = rs.getString(1);
            }
            c.commit();
        }
        List<String> left = db.strings("SELECT priority || CASE WHEN run_at <= now() THEN ' due ' || count(*) || ', oldest left '"
                + " || min((payload->>'n')::int) ELSE ' delayed ' || count(*) END FROM pgpubsub.notification"
                + " GROUP BY priority, run_at <= now() ORDER BY run_at <= now() DESC, priority DESC");
        Matcher hit = Pattern.compile("\"Shared Hit Blocks\": (\\d+)").matcher(plan);
        Matcher read = Pattern.compile("\"Shared Read Blocks\": (\\d+)").matcher(plan);
        assertThat(hit.find() && read.find()).as(plan).isTrue();
        return new Claimed(plan, Long.parseLong(hit.group(1)) + Long.parseLong(read.group(1)), left);
    }

    /** {@code ?} placeholders as {@code $1, $2, ...}. */
    private static String numbered(String sql) {
        Matcher m = Pattern.compile("\\?").matcher(sql);
        StringBuilder out = new StringBuilder();
        int n = 0;
        while (m.find()) {
            m.appendReplacement(out, "\\$" + ++n);
        }
        m.appendTail(out);
        return out.toString();
    }
}
