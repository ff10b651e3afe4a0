package dev.pgpubsub.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

@PostgresTest
class PostgresExtensionTest {

    private final TestDatabase fromConstructor;

    PostgresExtensionTest(TestDatabase db) {
        this.fromConstructor = db;
    }

    @Test
    void eachClassGetsItsOwnDatabaseNamedAfterIt(TestDatabase db) throws SQLException {
        assertThat(db.name()).startsWith("t_postgresextensiontest_");
        try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT current_database()")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo(db.name());
        }
    }

    @Test
    void theDatabaseIsTheSameForTheWholeClass(TestDatabase db) {
        assertThat(db).isEqualTo(fromConstructor);
    }

    @Test
    void theDataSourceReachesTheDatabase(TestDatabase db) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                ResultSet rs = c.createStatement().executeQuery("SELECT current_database()")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo(db.name());
        }
    }
}
