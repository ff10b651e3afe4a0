package dev.pgpubsub.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.listener.internal.claim.ClaimStatements;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
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

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void noClaimStatementScansTheTable(int which, TestDatabase db) throws Exception {
        Fixtures.reset(db);
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) SELECT 'orders', jsonb_build_object('n', g) "
                + "FROM generate_series(1, 50000) g");
        db.execute("ANALYZE pgpubsub.notification");
        String sql = numbered(new ClaimStatements("pgpubsub").claimSql().get(which));
        List<String> types = List.of(
                List.of("text", "int", "int", "float8", "float8", "float8", "int"),
                List.of("bigint[]", "text", "int", "float8", "float8", "float8", "int"),
                List.of("bigint[]", "text", "text", "int", "int")).get(which);
        List<String> values = List.of(
                List.of("'orders'", "100", "25", "1", "3600", "0.2", "25"),
                List.of(IDS, "'orders'", "25", "1", "3600", "0.2", "25"),
                List.of(IDS, "'5min'", "'5min'", "8388608", "8388608")).get(which);
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
