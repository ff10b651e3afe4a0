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
        String rows = which == 0 ? "text" : "bigint[], text";
        String rowValues = which == 0 ? "'orders'" : IDS + ", 'orders'";
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
            types.addAll(which == 0 ? List.of("text") : List.of("bigint[]", "text"));
            values.addAll(which == 0 ? List.of("'orders'") : List.of(IDS, "'orders'"));
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
