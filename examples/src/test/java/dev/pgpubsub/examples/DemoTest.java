package dev.pgpubsub.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import org.junit.jupiter.api.Test;

/** The demo, scaled down: a backlog drained by recovery and live orders, each invoiced exactly once. */
@PostgresTest
class DemoTest {

    @Test
    void everyOrderOfTheBacklogAndTheLiveStreamGetsExactlyOneInvoice(TestDatabase db) throws Exception {
        Demo.Options options = new Demo.Options(db.jdbcUrl() + "?user=" + db.user(), 3_000, 2, 100);
        Demo.Summary summary = Demo.run(options, db.dataSource());
        assertThat(summary.tasks()).isEqualTo(3_200);
        assertThat(summary.invoices()).isEqualTo(3_200);
        assertThat(summary.distinctInvoices()).isEqualTo(3_200);
        assertThat(summary.pending()).isZero();
        assertThat(summary.exactlyOnce()).isTrue();
        assertThat(summary.liveTasks()).isEqualTo(200);
        assertThat(summary.p50Millis()).isPositive().isLessThanOrEqualTo(summary.p99Millis());
        assertThat(summary.recoveryRowsPerSecond()).isPositive();
    }
}
