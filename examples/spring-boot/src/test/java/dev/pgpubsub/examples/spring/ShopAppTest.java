package dev.pgpubsub.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the application as its main method does, on a test database given as
 * {@code spring.datasource.url}: it exits with 0, and every order it placed has exactly one invoice;
 * and its check is no formality: without a listener, the run fails.
 */
@PostgresTest
class ShopAppTest {

    private final TestDatabase db;

    ShopAppTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void emptyDatabase() throws SQLException {
        db.execute("DROP TABLE IF EXISTS orders, invoices");
        db.execute("DO $$ BEGIN IF to_regclass('pgpubsub.notification') IS NOT NULL THEN "
                + "DELETE FROM pgpubsub.notification; END IF; END $$");
    }

    private int runShop(String... more) {
        String[] args = {"--spring.datasource.url=" + db.jdbcUrl(), "--spring.datasource.username=" + db.user(),
            "--spring.datasource.password=" + db.password()};
        String[] all = new String[args.length + more.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return ShopApplication.run(all);
    }

    @Test
    void everyOrderGetsExactlyOneInvoiceAndTheRunExitsWithZero() throws SQLException {
        assertThat(runShop("--shop.orders=500")).isZero();

        assertThat(db.number("SELECT count(*) FROM orders")).isEqualTo(500);
        assertThat(db.number("SELECT count(*) FROM invoices")).isEqualTo(500);
        assertThat(db.number("SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM invoices i "
                + "WHERE i.order_id = o.id AND i.amount = o.amount) <> 1")).isZero();
        assertThat(db.number("SELECT count(DISTINCT task_id) FROM invoices")).isEqualTo(500);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
        assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
    }

    @Test
    void withoutAListenerTheOrdersGetNoInvoicesAndTheRunExitsWithOne() throws SQLException {
        assertThat(runShop("--shop.orders=20", "--shop.timeout=1s", "--pgpubsub.listener.enabled=false")).isEqualTo(1);

        assertThat(db.number("SELECT count(*) FROM orders")).isEqualTo(20);
        assertThat(db.number("SELECT count(*) FROM invoices")).isZero();
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(20);
    }
}
