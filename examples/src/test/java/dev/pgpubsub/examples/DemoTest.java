package dev.pgpubsub.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

@PostgresTest
class DemoTest {

    @Test
    void theDemoWritesOneInvoicePerOrderAndLeavesNothingPending(TestDatabase db) throws Exception {
        Demo.run(db.jdbcUrl() + "?user=" + db.user(), db.dataSource());
        try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT string_agg(order_id::text, ',' ORDER BY order_id), count(DISTINCT task_id), "
                        + "(SELECT count(*) FROM pgpubsub.notification) FROM invoice")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("1,2,3");
            assertThat(rs.getInt(2)).isEqualTo(3);
            assertThat(rs.getInt(3)).isZero();
        }
    }
}
