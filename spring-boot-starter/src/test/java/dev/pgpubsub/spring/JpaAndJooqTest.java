package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static dev.pgpubsub.spring.TestApps.INVOICES;
import static dev.pgpubsub.spring.TestApps.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.TestApps.Invoice;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.spring.jpa.InvoiceRow;
import dev.pgpubsub.spring.jpa.InvoiceRows;
import dev.pgpubsub.spring.jpa.Ticket;
import dev.pgpubsub.spring.jpa.Tickets;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration;
import org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.jooq.autoconfigure.JooqAutoConfiguration;
import org.springframework.boot.persistence.autoconfigure.EntityScan;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;

/**
 * Handlers that write through Spring Data JPA (Hibernate) and a Spring-managed jOOQ
 * {@code DSLContext}, in a context made by Spring Boot's own auto-configuration: their writes join
 * the claim transaction (a {@code JpaTransactionManager}'s), so they commit exactly once, with the
 * task's deletion; a constraint violation that Hibernate meets only at flush fails its own task alone.
 */
@PostgresTest
class JpaAndJooqTest {

    /** Tasks of the exactly-once run. */
    static final int TASKS = 10_000;

    static final Channel<Invoice> TICKETS = Channel.of("tickets", Invoice.class);
    static final Channel<Order> JOOQ = Channel.of("jooq_orders", Order.class);

    /**
     * A @Transactional handler bean (a CGLIB proxy) that writes through a JPA repository and
     * through JdbcTemplate, and whose first attempt of some tasks writes (flushed) and then throws.
     */
    @Service
    @Transactional
    public static class JpaHandlers {
        private final InvoiceRows invoices;
        private final JdbcTemplate jdbc;

        public JpaHandlers(InvoiceRows invoices, JdbcTemplate jdbc) {
            this.invoices = invoices;
            this.jdbc = jdbc;
        }

        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            boolean sameTx = invoices.currentTransactionId() == TestApps.xid(context);
            jdbc.update("INSERT INTO written (task_id, n, attempt, same_tx) VALUES (?, ?, ?, ?)", context.id(),
                    order.n(), context.attempt(), sameTx);
            InvoiceRow row = new InvoiceRow(context.id(), order.n(), context.attempt(), sameTx);
            if (SpringTransactionsTest.failsFirst(order.n()) && context.attempt() == 1) {
                invoices.saveAndFlush(row); // written in the database, then thrown away with the attempt
                throw new IllegalStateException("first attempt of " + order.n() + " fails after writing");
            }
            invoices.save(row); // inserted when the transaction flushes
        }
    }

    /** Saves a ticket per task; invoice 3's code is taken, which Hibernate finds only at flush. */
    @Service
    public static class TicketHandlers {
        private final Tickets tickets;

        public TicketHandlers(Tickets tickets) {
            this.tickets = tickets;
        }

        @Listen("tickets")
        public void onTicket(Invoice invoice, TaskContext context) {
            tickets.save(new Ticket(invoice.n() == 3 ? "TAKEN" : "T" + invoice.n(), context.attempt()));
        }
    }

    /** Writes through the application's jOOQ DSLContext, and fails some first attempts after writing. */
    @Service
    public static class JooqHandlers {
        private final DSLContext dsl;

        public JooqHandlers(DSLContext dsl) {
            this.dsl = dsl;
        }

        @Listen("jooq_orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            Long written = dsl.fetchValue(DSL.field("pg_current_xact_id()::text::bigint", Long.class));
            dsl.insertInto(DSL.table("written"), DSL.field("task_id"), DSL.field("n"), DSL.field("attempt"),
                    DSL.field("same_tx"))
                    .values(context.id(), order.n(), context.attempt(), written != null && written == TestApps.xid(context))
                    .execute();
            if (order.n() % 10 == 3 && context.attempt() == 1) {
                throw new IllegalStateException("first attempt of " + order.n() + " fails after writing");
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EntityScan(basePackageClasses = InvoiceRow.class)
    @EnableJpaRepositories(basePackageClasses = InvoiceRow.class)
    static class JpaApp {
    }

    @Configuration(proxyBeanMethods = false)
    static class JpaHandlersApp {
        @Bean
        JpaHandlers jpaHandlers(InvoiceRows invoices, JdbcTemplate jdbc) {
            return new JpaHandlers(invoices, jdbc);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class TicketsApp {
        @Bean
        TicketHandlers ticketHandlers(Tickets tickets) {
            return new TicketHandlers(tickets);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class JooqApp {
        @Bean
        JooqHandlers jooqHandlers(DSLContext dsl) {
            return new JooqHandlers(dsl);
        }
    }

    private final TestDatabase db;

    JpaAndJooqTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTables() throws SQLException {
        for (String table : new String[] {"written", "jpa_invoice", "ticket", "shop_order"}) {
            db.execute("DROP TABLE IF EXISTS " + table);
        }
        db.execute("DROP SEQUENCE IF EXISTS jpa_seq");
        db.execute("CREATE SEQUENCE jpa_seq INCREMENT BY 50");
        // No unique key: a duplicate shows as a second row.
        db.execute("CREATE TABLE written (task_id bigint NOT NULL, n bigint NOT NULL, attempt int NOT NULL, "
                + "same_tx boolean NOT NULL)");
        db.execute("CREATE TABLE jpa_invoice (id bigint PRIMARY KEY, task_id bigint NOT NULL, n bigint NOT NULL, "
                + "attempt int NOT NULL, same_tx boolean NOT NULL)");
        db.execute("CREATE TABLE ticket (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, attempt int NOT NULL)");
        db.execute("INSERT INTO ticket VALUES (0, 'TAKEN', 0)");
        db.execute("CREATE TABLE shop_order (id bigint PRIMARY KEY, n bigint NOT NULL)");
        db.execute("DO $$ BEGIN IF to_regclass('pgpubsub.dead_letter') IS NOT NULL THEN "
                + "DELETE FROM pgpubsub.dead_letter; DELETE FROM pgpubsub.notification; END IF; END $$");
    }

    /**
     * An application made by Spring Boot's own auto-configuration: its DataSource from
     * {@code spring.datasource.*}, Hibernate and Spring Data JPA (so a {@code JpaTransactionManager}),
     * JdbcTemplate and jOOQ.
     */
    static ApplicationContextRunner bootApp(TestDatabase db) {
        return TestApps.runner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, HibernateJpaAutoConfiguration.class,
                        DataJpaRepositoriesAutoConfiguration.class, TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class, JooqAutoConfiguration.class))
                .withUserConfiguration(JpaApp.class)
                .withPropertyValues("spring.datasource.url=" + db.jdbcUrl(), "spring.datasource.username=" + db.user(),
                        "spring.datasource.password=" + db.password(), "spring.jpa.hibernate.ddl-auto=none",
                        "spring.jooq.sql-dialect=postgres", "pgpubsub.listener.retry.max-delay=500ms",
                        "pgpubsub.listener.retry.jitter=0");
    }

    private long pending(String channel) throws SQLException {
        return db.number("SELECT count(*) FROM pgpubsub.notification WHERE channel = '" + channel + "'");
    }

    @Test
    void jpaAndJdbcTemplateWritesOfATransactionalHandlerCommitExactlyOnceWithTheTask() {
        bootApp(db).withUserConfiguration(JpaHandlersApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PlatformTransactionManager.class)).isInstanceOf(JpaTransactionManager.class);
            assertThat(AopUtils.isCglibProxy(context.getBean(JpaHandlers.class))).isTrue();
            Publisher publisher = context.getBean(Publisher.class);
            DataSource dataSource = context.getBean(DataSource.class);
            for (long from = 0; from < TASKS; from += 1_000) {
                long start = from;
                publisher.inNewTransaction(dataSource, (tx, c) -> tx.publishAll(ORDERS,
                        LongStream.range(start, Math.min(start + 1_000, TASKS)).mapToObj(Order::new).toList()));
            }
            long failing = LongStream.range(0, TASKS).filter(SpringTransactionsTest::failsFirst).count();
            await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> pending("orders") == 0 && db.number("SELECT count(*) FROM jpa_invoice") >= TASKS);
            for (String table : new String[] {"jpa_invoice", "written"}) {
                // Exactly one row per task in each side table: none from a failed first attempt, none twice.
                assertThat(db.number("SELECT count(*) FROM " + table)).as(table).isEqualTo(TASKS);
                assertThat(db.number("SELECT count(DISTINCT n) FROM " + table)).as(table).isEqualTo(TASKS);
                assertThat(db.number("SELECT count(DISTINCT task_id) FROM " + table)).as(table).isEqualTo(TASKS);
                // Every write was in the claim transaction itself.
                assertThat(db.number("SELECT count(*) FROM " + table + " WHERE NOT same_tx")).as(table).isZero();
                // The failing tasks' rows are their retries'; their batch-mates were never charged.
                assertThat(db.number("SELECT count(*) FROM " + table
                        + " WHERE attempt <> CASE WHEN n % 250 = 7 THEN 2 ELSE 1 END")).as(table).isZero();
            }
            assertThat(db.number("SELECT count(*) FROM jpa_invoice WHERE attempt = 2")).isEqualTo(failing);
            assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        });
    }

    @Test
    void aConstraintViolationAtFlushFailsItsTaskAloneAndItsBatchMatesCommitUncharged() {
        bootApp(db).withUserConfiguration(TicketsApp.class)
                .withPropertyValues("pgpubsub.listener.channel.tickets.max-attempts=2")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(Publisher.class).inNewTransaction(context.getBean(DataSource.class), (tx, c) ->
                            tx.publishAll(TICKETS, LongStream.rangeClosed(1, 10).mapToObj(Invoice::new).toList()));
                    await().atMost(AWAIT).until(() -> pending("tickets") == 0
                            && db.number("SELECT count(*) FROM pgpubsub.dead_letter") == 1);
                    // Invoice 3 failed at flush, twice, and went to the dead letters for it.
                    assertThat(db.strings("SELECT (payload->>'n') || ' ' || attempts FROM pgpubsub.dead_letter"))
                            .containsExactly("3 2");
                    assertThat(db.strings("SELECT errors::text FROM pgpubsub.dead_letter").get(0))
                            .containsIgnoringCase("ticket_code_key");
                    // Its batch-mates committed once each, and were not charged an attempt.
                    assertThat(db.strings("SELECT code || ':' || attempt FROM ticket WHERE code <> 'TAKEN' ORDER BY id"))
                            .containsExactlyInAnyOrder("T1:1", "T2:1", "T4:1", "T5:1", "T6:1", "T7:1", "T8:1", "T9:1",
                                    "T10:1");
                });
    }

    @Test
    void writesThroughTheApplicationsJooqDslContextJoinTheClaimTransaction() {
        bootApp(db).withUserConfiguration(JooqApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            context.getBean(Publisher.class).inNewTransaction(context.getBean(DataSource.class), (tx, c) ->
                    tx.publishAll(JOOQ, LongStream.range(0, 200).mapToObj(Order::new).toList()));
            await().atMost(AWAIT).until(() -> pending("jooq_orders") == 0
                    && db.number("SELECT count(*) FROM written") >= 200);
            assertThat(db.number("SELECT count(*) FROM written")).isEqualTo(200);
            assertThat(db.number("SELECT count(DISTINCT n) FROM written")).isEqualTo(200);
            assertThat(db.number("SELECT count(*) FROM written WHERE NOT same_tx")).isZero();
            // The first attempts that failed after writing left nothing; their retries wrote once.
            assertThat(db.number("SELECT count(*) FROM written WHERE attempt <> CASE WHEN n % 10 = 3 THEN 2 ELSE 1 END"))
                    .isZero();
            assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        });
    }
}
