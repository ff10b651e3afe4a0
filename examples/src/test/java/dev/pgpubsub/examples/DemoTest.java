package dev.pgpubsub.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

@PostgresTest
class DemoTest {

    @Test
    void theDemoInstallsTheSchemaAndLeavesThreeOrdersPending(TestDatabase db) throws SQLException {
        Demo.run(db.dataSource());
        try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT string_agg(payload->>'order_id', ',' ORDER BY id) FROM pgpubsub.notification WHERE channel = 'orders'")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("1,2,3");
        }
    }
}
