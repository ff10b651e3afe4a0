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
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/**
 * The claim transaction is a Spring transaction of the application's transaction manager, in real
 * contexts on a real Postgres: JdbcTemplate and {@code @Transactional(REQUIRED)} services called by
 * a handler join it, so their writes commit exactly once with the task's deletion; a swallowed
 * exception of a REQUIRED service fails that task alone; {@code REQUIRES_NEW} escapes it; a
 * transaction manager of another DataSource is refused at start-up.
 */
@PostgresTest
class SpringTransactionsTest {

    /** Tasks of the exactly-once run: 2,000, or 10,000 with {@code -Dpgpubsub.spring.full=true}. */
    static final int TASKS = Boolean.getBoolean("pgpubsub.spring.full") ? 10_000 : 2_000;

    /** Tasks whose first attempt writes and then throws. */
    static boolean failsFirst(long n) {
        return n % 250 == 7;
    }

    static final Channel<Order> ESCAPES = Channel.of("escapes", Order.class);

    /** A @Transactional handler bean (a CGLIB proxy) that writes through JdbcTemplate. */
    @Service
    @Transactional
    public static class OrderHandlers {
        private final JdbcTemplate jdbc;

        public OrderHandlers(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            // Same transaction as the claim, which deletes the task: same Postgres transaction id.
            long claimXid = TestApps.xid(context);
            Long written = jdbc.queryForObject("SELECT pg_current_xact_id()::text::bigint", Long.class);
            jdbc.update("INSERT INTO written (task_id, n, attempt, same_tx) VALUES (?, ?, ?, ?)", context.id(),
                    order.n(), context.attempt(), written != null && written == claimXid);
            if (failsFirst(order.n()) && context.attempt() == 1) {
                throw new IllegalStateException("first attempt of " + order.n() + " fails after writing");
            }
        }
    }

    /** A REQUIRED service that writes and throws. */
    @Service
    public static class Audit {
        private final NamedParameterJdbcTemplate jdbc;

        public Audit(NamedParameterJdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional
        public void writeAndFail(long taskId, long n, int attempt) {
            jdbc.update("INSERT INTO written (task_id, n, attempt, same_tx) VALUES (:id, :n, :attempt, true)",
                    new org.springframework.jdbc.core.namedparam.MapSqlParameterSource().addValue("id", taskId)
                            .addValue("n", -n).addValue("attempt", attempt));
            throw new IllegalStateException("the audit of " + n + " fails");
        }
    }

    /** A plain handler bean that swallows the REQUIRED service's exception for invoice 3. */
    @Service
    public static class InvoiceHandlers {
        private final JdbcTemplate jdbc;
        private final Audit audit;

        public InvoiceHandlers(JdbcTemplate jdbc, Audit audit) {
            this.jdbc = jdbc;
            this.audit = audit;
        }

        @Listen("invoices")
        public void onInvoice(Invoice invoice, TaskContext context) {
            jdbc.update("INSERT INTO written (task_id, n, attempt, same_tx) VALUES (?, ?, ?, true)", context.id(),
                    invoice.n(), context.attempt());
            if (invoice.n() == 3) {
                try {
                    audit.writeAndFail(context.id(), invoice.n(), context.attempt());
                } catch (IllegalStateException swallowed) {
                    // the handler carries on, but the transaction is marked rollback-only
                }
            }
        }
    }

    /** A REQUIRES_NEW service: its own transaction, on another connection. */
    @Service
    public static class Escape {
        private final JdbcTemplate jdbc;

        public Escape(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional(propagation = Propagation.REQUIRES_NEW)
        public void record(long n, int attempt) {
            jdbc.update("INSERT INTO escaped (n, attempt) VALUES (?, ?)", n, attempt);
        }
    }

    /** Writes in the claim, then through a REQUIRES_NEW service, then fails its first attempt. */
    @Service
    public static class EscapeHandlers {
        private final JdbcTemplate jdbc;
        private final Escape escape;

        public EscapeHandlers(JdbcTemplate jdbc, Escape escape) {
            this.jdbc = jdbc;
            this.escape = escape;
        }

        @Listen("escapes")
        public void onEscape(Order order, TaskContext context) {
            jdbc.update("INSERT INTO written (task_id, n, attempt, same_tx) VALUES (?, ?, ?, true)", context.id(),
                    order.n(), context.attempt());
            escape.record(order.n(), context.attempt());
            if (context.attempt() == 1) {
                throw new IllegalStateException("first attempt fails after the escape");
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class JdbcApp {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        JdbcTemplate jdbcTemplate(DataSource dataSource) {
            return new JdbcTemplate(dataSource);
        }

        @Bean
        NamedParameterJdbcTemplate namedParameterJdbcTemplate(DataSource dataSource) {
            return new NamedParameterJdbcTemplate(dataSource);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OrdersApp {
        @Bean
        OrderHandlers orderHandlers(JdbcTemplate jdbc) {
            return new OrderHandlers(jdbc);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class InvoicesApp {
        @Bean
        Audit audit(NamedParameterJdbcTemplate jdbc) {
            return new Audit(jdbc);
        }

        @Bean
        InvoiceHandlers invoiceHandlers(JdbcTemplate jdbc, Audit audit) {
            return new InvoiceHandlers(jdbc, audit);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class EscapesApp {
        @Bean
        Escape escape(JdbcTemplate jdbc) {
            return new Escape(jdbc);
        }

        @Bean
        EscapeHandlers escapeHandlers(JdbcTemplate jdbc, Escape escape) {
            return new EscapeHandlers(jdbc, escape);
        }
    }

    private final TestDatabase db;

    SpringTransactionsTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTables() throws SQLException {
        db.execute("DROP TABLE IF EXISTS written");
        db.execute("DROP TABLE IF EXISTS escaped");
        // No unique key: a duplicate shows as a second row.
        db.execute("CREATE TABLE written (task_id bigint NOT NULL, n bigint NOT NULL, attempt int NOT NULL, "
                + "same_tx boolean NOT NULL)");
        db.execute("CREATE TABLE escaped (n bigint NOT NULL, attempt int NOT NULL)");
        // The dead letters of an earlier test (the schema exists once a context has migrated it).
        db.execute("DO $$ BEGIN IF to_regclass('pgpubsub.dead_letter') IS NOT NULL THEN "
                + "DELETE FROM pgpubsub.dead_letter; END IF; END $$");
    }

    private ApplicationContextRunner app() {
        return TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withUserConfiguration(JdbcApp.class)
                .withPropertyValues("pgpubsub.listener.retry.max-delay=500ms", "pgpubsub.listener.retry.jitter=0");
    }

    private long pending(String channel) throws SQLException {
        return db.number("SELECT count(*) FROM pgpubsub.notification WHERE channel = '" + channel + "'");
    }

    @Test
    void jdbcTemplateWritesOfATransactionalHandlerCommitExactlyOnceWithTheTask() {
        app().withUserConfiguration(OrdersApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(AopUtils.isCglibProxy(context.getBean(OrderHandlers.class))).isTrue();
            Publisher publisher = context.getBean(Publisher.class);
            DataSource dataSource = context.getBean(DataSource.class);
            for (long from = 0; from < TASKS; from += 1_000) {
                long start = from;
                publisher.inNewTransaction(dataSource, (tx, c) -> tx.publishAll(ORDERS,
                        LongStream.range(start, Math.min(start + 1_000, TASKS)).mapToObj(Order::new).toList()));
            }
            long failing = LongStream.range(0, TASKS).filter(SpringTransactionsTest::failsFirst).count();
            await().atMost(Duration.ofMinutes(TASKS > 2_000 ? 10 : 3)).pollInterval(Duration.ofMillis(200))
                    .until(() -> pending("orders") == 0 && db.number("SELECT count(*) FROM written") >= TASKS);
            // Exactly one row per task: none from a failed first attempt, none twice.
            assertThat(db.number("SELECT count(*) FROM written")).isEqualTo(TASKS);
            assertThat(db.number("SELECT count(DISTINCT n) FROM written")).isEqualTo(TASKS);
            assertThat(db.number("SELECT count(DISTINCT task_id) FROM written")).isEqualTo(TASKS);
            // Every write was in the claim transaction itself.
            assertThat(db.number("SELECT count(*) FROM written WHERE NOT same_tx")).isZero();
            // The failing tasks' rows are their retries'; their batch-mates were never charged.
            assertThat(db.number("SELECT count(*) FROM written WHERE attempt = 2")).isEqualTo(failing);
            assertThat(db.number("SELECT count(*) FROM written WHERE attempt <> CASE WHEN n % 250 = 7 THEN 2 ELSE 1 END"))
                    .isZero();
            assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        });
    }

    @Test
    void aSwallowedExceptionOfARequiredServiceFailsThatTaskAlone() {
        app().withUserConfiguration(InvoicesApp.class)
                .withPropertyValues("pgpubsub.listener.channel.invoices.max-attempts=2")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(Publisher.class).inNewTransaction(context.getBean(DataSource.class), (tx, c) ->
                            tx.publishAll(INVOICES, LongStream.rangeClosed(1, 10).mapToObj(Invoice::new).toList()));
                    await().atMost(AWAIT).until(() -> pending("invoices") == 0
                            && db.number("SELECT count(*) FROM pgpubsub.dead_letter") == 1);
                    // Invoice 3 went to the dead letters after its two attempts, and the transaction
                    // being rollback-only is what failed it.
                    assertThat(db.strings("SELECT (payload->>'n') || ' ' || attempts FROM pgpubsub.dead_letter"))
                            .containsExactly("3 2");
                    assertThat(db.strings("SELECT errors::text FROM pgpubsub.dead_letter").get(0))
                            .contains("rollback-only");
                    // None of its writes (its own, or the service's) committed.
                    assertThat(db.number("SELECT count(*) FROM written WHERE n IN (3, -3)")).isZero();
                    // Its batch-mates committed once each, and were not charged an attempt.
                    assertThat(db.strings("SELECT n || ':' || attempt FROM written ORDER BY n"))
                            .containsExactly("1:1", "2:1", "4:1", "5:1", "6:1", "7:1", "8:1", "9:1", "10:1");
                });
    }

    @Test
    void aRequiresNewServiceEscapesTheClaimTransaction() {
        app().withUserConfiguration(EscapesApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            context.getBean(Publisher.class).inNewTransaction(context.getBean(DataSource.class), (tx, c) ->
                    tx.publishAll(ESCAPES, LongStream.rangeClosed(1, 3).mapToObj(Order::new).toList()));
            await().atMost(AWAIT).until(() -> pending("escapes") == 0 && db.number("SELECT count(*) FROM written") == 3);
            // The claim's writes: once each, from the retry.
            assertThat(db.strings("SELECT n || ':' || attempt FROM written ORDER BY n"))
                    .containsExactly("1:2", "2:2", "3:2");
            // The REQUIRES_NEW writes committed on their own: each failed first attempt's stayed. (A
            // second attempt's may be there twice: run again, uncharged, as a batch-mate of a failure.)
            assertThat(db.strings("SELECT n || ':' || attempt FROM escaped WHERE attempt = 1 ORDER BY n"))
                    .containsExactly("1:1", "2:1", "3:1");
            assertThat(db.number("SELECT count(DISTINCT n) FROM escaped WHERE attempt = 2")).isEqualTo(3);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class JdbcTemplateOnly {
        @Bean
        JdbcTemplate jdbcTemplate(DataSource dataSource) {
            return new JdbcTemplate(dataSource);
        }
    }

    /** Two pools on the same database: the same rows, but not the same DataSource. */
    @Configuration(proxyBeanMethods = false)
    static class OtherDataSourceApp {
        @Bean
        PlatformTransactionManager transactionManager(TestDatabase db) {
            return new DataSourceTransactionManager(TestApps.hikari(db));
        }
    }

    @Test
    void aTransactionManagerOfAnotherDataSourceIsRefusedAtStartUp() {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean(TestDatabase.class, () -> db)
                .withUserConfiguration(OtherDataSourceApp.class, JdbcTemplateOnly.class, OrdersApp.class)
                .run(context -> {
                    assertThat(context).hasFailed();
                    Throwable failure = context.getStartupFailure();
                    TransactionManagerMismatchException e = null;
                    for (Throwable t = failure; t != null; t = t.getCause()) {
                        if (t instanceof TransactionManagerMismatchException m) {
                            e = m;
                        }
                    }
                    assertThat(e).as("a TransactionManagerMismatchException in %s", failure).isNotNull();
                    assertThat(e.transactionManagerType()).isEqualTo(DataSourceTransactionManager.class.getName());
                    FailureAnalysis analysis = analysis(failure);
                    assertThat(analysis.getDescription()).contains("the listener claims tasks on the application's DataSource")
                            .contains("manages another DataSource");
                    assertThat(analysis.getAction()).contains("pgpubsub.listener.spring-transactions=false");
                });
    }

    /** The transaction manager of the application's DataSource (with another one, neither @Primary). */
    @Configuration(proxyBeanMethods = false)
    static class ApplicationsTransactionManagerApp {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }
    }

    @Test
    void ofSeveralTransactionManagersTheOneOfTheApplicationsDataSourceRunsTheClaims() {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("otherTransactionManager", PlatformTransactionManager.class,
                        () -> new DataSourceTransactionManager(TestApps.hikari(db)))
                .withUserConfiguration(ApplicationsTransactionManagerApp.class, JdbcTemplateOnly.class, OrdersApp.class)
                .withPropertyValues("pgpubsub.listener.retry.max-delay=500ms", "pgpubsub.listener.retry.jitter=0")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(Publisher.class).inNewTransaction(context.getBean(DataSource.class), (tx, c) ->
                            tx.publishAll(ORDERS, LongStream.range(0, 20).mapToObj(Order::new).toList()));
                    await().atMost(AWAIT).until(() -> pending("orders") == 0
                            && db.number("SELECT count(*) FROM written") == 20);
                    // JdbcTemplate joined the claim: its writes were in the claim's transaction.
                    assertThat(db.number("SELECT count(*) FROM written WHERE NOT same_tx")).isZero();
                });
    }

    /** Two transaction managers of the application's DataSource, neither @Primary. */
    @Configuration(proxyBeanMethods = false)
    static class TwoOnTheSameDataSourceApp {
        @Bean
        PlatformTransactionManager oneTransactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        PlatformTransactionManager anotherTransactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }
    }

    @Test
    void twoTransactionManagersOfTheApplicationsDataSourceWithoutAPrimaryFailStartUp() {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withUserConfiguration(TwoOnTheSameDataSourceApp.class, JdbcTemplateOnly.class, OrdersApp.class)
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause().isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("2 PlatformTransactionManager beans manage it")
                            .hasMessageContaining("@Primary")
                            .hasMessageContaining("pgpubsub.listener.spring-transactions=false");
                });
    }

    @Test
    void aTransactionManagerOnATransactionAwareProxyOfTheDataSourceIsAccepted() {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withUserConfiguration(ProxiedDataSourceApp.class, JdbcTemplateOnly.class, OrdersApp.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(ListenerLifecycle.class).isRunning()).isTrue();
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class ProxiedDataSourceApp {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(new TransactionAwareDataSourceProxy(dataSource));
        }
    }

    private static FailureAnalysis analysis(Throwable failure) {
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation().load(FailureAnalyzer.class,
                null, SpringFactoriesLoader.FailureHandler.handleMessage((message, e) -> { }));
        for (FailureAnalyzer analyzer : analyzers) {
            if (analyzer instanceof TransactionManagerMismatchFailureAnalyzer) {
                FailureAnalysis analysis = analyzer.analyze(failure);
                if (analysis != null) {
                    return analysis;
                }
            }
        }
        throw new AssertionError("No analysis of " + failure);
    }
}
