package dev.pgpubsub.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import org.junit.jupiter.api.Test;

@PostgresTest
class StatusChangesTest {

    @Test
    void eachStatusChangeIsAuditedOnceAndAssigningTheSameStatusIsNot(TestDatabase db) throws Exception {
        StatusChanges.run(db.jdbcUrl() + "?user=" + db.user(), db.dataSource());
        assertThat(db.strings("SELECT order_id || ' ' || old_status || '->' || new_status || ' ' || changed_by "
                + "FROM order_audit ORDER BY order_id")).containsExactly("1 new->paid support-desk", "2 new->paid support-desk");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }
}
