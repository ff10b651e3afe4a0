package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Publishing inside a jOOQ transaction. */
@PostgresTest
class PublisherJooqTest {

    record Invoice(long number) {
    }

    static final Channel<Invoice> INVOICES = Channel.of("invoices", Invoice.class);

    private final TestDatabase db;
    private final DSLContext dsl;
    private final Publisher publisher = Publisher.create();

    PublisherJooqTest(TestDatabase db) {
        this.db = db;
        this.dsl = DSL.using(db.dataSource(), SQLDialect.POSTGRES);
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification");
    }

    @Test
    void aCommittedJooqTransactionPublishesWithItsOwnWrites() throws SQLException {
        dsl.transaction(cfg -> {
            cfg.dsl().execute("CREATE TABLE IF NOT EXISTS invoice (number bigint)");
            cfg.dsl().execute("INSERT INTO invoice VALUES (1)");
            JooqPublisher.in(publisher, cfg.dsl()).publish(INVOICES, new Invoice(1));
            JooqPublisher.in(publisher, cfg.dsl()).publishAll(INVOICES, List.of(new Invoice(2), new Invoice(3)));
        });
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification WHERE channel = 'invoices'")).isEqualTo(3);
    }

    @Test
    void aRolledBackJooqTransactionPublishesNothing() throws SQLException {
        assertThatThrownBy(() -> dsl.transaction(cfg -> {
            JooqPublisher.in(publisher, cfg.dsl()).publish(INVOICES, new Invoice(1));
            throw new IllegalStateException("business rule failed");
        })).hasMessageContaining("business rule failed");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void aDslContextOutsideATransactionIsRefused() throws SQLException {
        assertThatThrownBy(() -> JooqPublisher.in(publisher, dsl).publish(INVOICES, new Invoice(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("autocommit");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }
}
