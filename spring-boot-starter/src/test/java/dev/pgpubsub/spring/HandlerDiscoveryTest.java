package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static dev.pgpubsub.spring.TestApps.INVOICES;
import static dev.pgpubsub.spring.TestApps.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.TestApps.Invoice;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Handler beans in a real Spring context on a real Postgres: a {@code @Transactional} class (a
 * subclassing CGLIB proxy) and a {@code @Transactional} bean behind an interface (a JDK proxy) are
 * found, and every task published with the {@code Publisher} bean runs through the proxy, inside
 * the advice's transaction.
 */
@PostgresTest
class HandlerDiscoveryTest {

    /** No interface: Spring proxies the class (CGLIB). */
    @Service
    @Transactional
    public static class OrderHandlers {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            TestApps.recordHandled(context, order.n(), TransactionSynchronizationManager.isActualTransactionActive());
        }
    }

    /** The interface a JDK proxy implements. */
    public interface InvoiceHandling {
        void onInvoice(Invoice invoice, TaskContext context) throws SQLException;
    }

    /** Implements an interface: with proxyTargetClass = false, Spring proxies the interface (JDK). */
    @Transactional
    public static class InvoiceHandlers implements InvoiceHandling {
        @Override
        @Listen("invoices")
        public void onInvoice(Invoice invoice, TaskContext context) throws SQLException {
            TestApps.recordHandled(context, invoice.n(), TransactionSynchronizationManager.isActualTransactionActive());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class ProxiedHandlersApp {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        OrderHandlers orderHandlers() {
            return new OrderHandlers();
        }

        @Bean
        InvoiceHandling invoiceHandlers() {
            return new InvoiceHandlers();
        }
    }

    private final TestDatabase db;

    HandlerDiscoveryTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTable() throws SQLException {
        TestApps.createHandledTable(db);
    }

    @Test
    void proxiedBeansAreFoundAndEveryTaskRunsThroughTheirAdvice() {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withUserConfiguration(ProxiedHandlersApp.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(AopUtils.isCglibProxy(context.getBean("orderHandlers"))).isTrue();
                    assertThat(AopUtils.isJdkDynamicProxy(context.getBean("invoiceHandlers"))).isTrue();
                    ListenerLifecycle lifecycle = context.getBean(ListenerLifecycle.class);
                    assertThat(lifecycle.isRunning()).isTrue();
                    assertThat(lifecycle.handlerBeans()).containsExactlyInAnyOrder("orderHandlers", "invoiceHandlers");
                    Listener listener = lifecycle.listener().orElseThrow();
                    assertThat(listener.channels()).containsExactlyInAnyOrder("orders", "invoices");
                    // The URL of the LISTEN connection came from the HikariDataSource: it is listening.
                    assertThat(db.number("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            + "AND application_name LIKE 'pgpubsub-%-listen %'")).isPositive();

                    Publisher publisher = context.getBean(Publisher.class);
                    DataSource dataSource = context.getBean(DataSource.class);
                    publisher.inNewTransaction(dataSource, (tx, c) -> {
                        tx.publishAll(ORDERS, LongStream.range(0, 30).mapToObj(Order::new).toList());
                        return tx.publishAll(INVOICES, LongStream.range(0, 30).mapToObj(Invoice::new).toList());
                    });
                    await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 60);
                    assertThat(db.number("SELECT count(DISTINCT (channel, n)) FROM handled")).isEqualTo(60);
                    // Each call went through the proxy: the @Transactional advice had opened a transaction.
                    assertThat(db.number("SELECT count(*) FROM handled WHERE in_spring_tx")).isEqualTo(60);
                    assertThat(listener.stats()).isNotNull();
                });
        // The context is closed: the listener with it.
    }

    /** A handler without a proxy, found through Boot's own DataSource from spring.datasource.*. */
    public static class PlainHandlers {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            TestApps.recordHandled(context, order.n(), TransactionSynchronizationManager.isActualTransactionActive());
        }
    }

    @Test
    void theListenConnectionFollowsSpringDatasourceUrl() {
        TestApps.runner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + db.jdbcUrl(), "spring.datasource.username=" + db.user(),
                        "spring.datasource.password=" + db.password())
                .withBean("plainHandlers", PlainHandlers.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(7));
                    await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 1);
                    assertThat(db.number("SELECT count(*) FROM handled WHERE in_spring_tx")).isZero();
                });
    }

    @Test
    void aStoppedContextStartsANewListenerThatRunsWhatWasPublishedMeanwhile() {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("plainHandlers", PlainHandlers.class)
                .run(context -> {
                    ListenerLifecycle lifecycle = context.getBean(ListenerLifecycle.class);
                    Listener first = lifecycle.listener().orElseThrow();
                    context.stop();
                    assertThat(lifecycle.isRunning()).isFalse();
                    context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(1));
                    context.start();
                    assertThat(lifecycle.isRunning()).isTrue();
                    assertThat(lifecycle.listener().orElseThrow()).isNotSameAs(first);
                    await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 1);
                });
    }
}
