package dev.pgpubsub.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.HandlerRegistrationException.Problem;
import dev.pgpubsub.spring.TestApps.Invoice;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.util.List;
import java.util.function.Consumer;
import org.springframework.boot.test.context.runner.ContextConsumer;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

/**
 * Each misconfiguration fails start-up of a real context, and the failure analyzers that Spring
 * Boot loads from {@code spring.factories} explain it: what is wrong and what to do.
 */
@PostgresTest
class FailureAnalysisTest {

    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    public static class MoreOrders {
        @Listen("orders")
        public void again(Order order, TaskContext context) {
        }
    }

    public static class BadChannel {
        @Listen("order-paid")
        public void onOrder(Order order) {
        }
    }

    public static class LongChannel {
        @Listen("a_channel_name_that_is_long_enough_to_overflow_the_limit")
        public void onOrder(Order order) {
        }
    }

    public static class NotARecord {
        @Listen("orders")
        public void onOrder(String order) {
        }
    }

    public interface Marker {
        void unrelated();
    }

    /** Proxied through {@link Marker}, which does not declare the handler method. */
    @Transactional
    public static class HiddenFromProxy implements Marker {
        @Override
        public void unrelated() {
        }

        @Listen("invoices")
        public void onInvoice(Invoice invoice) {
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class JdkProxyApp {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        Marker hiddenFromProxy() {
            return new HiddenFromProxy();
        }
    }

    private final TestDatabase db;

    FailureAnalysisTest(TestDatabase db) {
        this.db = db;
    }

    private ApplicationContextRunner app() {
        return TestApps.runner().withBean(DataSource.class, () -> TestApps.hikari(db));
    }

    /**
     * The failure analyzers registered in {@code spring.factories}, as Spring Boot loads them; those of
     * Spring Boot that need a bean factory to be made are left out.
     */
    private static List<FailureAnalyzer> analyzers() {
        return SpringFactoriesLoader.forDefaultResourceLocation().load(FailureAnalyzer.class, null,
                SpringFactoriesLoader.FailureHandler.handleMessage((message, e) -> { }));
    }

    /** The analysis Spring Boot would print: the first registered analyzer that explains the failure. */
    private static FailureAnalysis analysis(Throwable failure) {
        for (FailureAnalyzer analyzer : analyzers()) {
            if (analyzer.getClass().getPackageName().equals(FailureAnalysisTest.class.getPackageName())) {
                FailureAnalysis analysis = analyzer.analyze(failure);
                if (analysis != null) {
                    return analysis;
                }
            }
        }
        throw new AssertionError("No pgpubsub failure analyzer explains " + failure);
    }

    private static ContextConsumer<AssertableApplicationContext> failsWith(Problem problem, Consumer<FailureAnalysis> check) {
        return context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            HandlerRegistrationException e = findCause(failure, HandlerRegistrationException.class);
            assertThat(e.problem()).isEqualTo(problem);
            check.accept(analysis(failure));
        };
    }

    private static <T extends Throwable> T findCause(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        throw new AssertionError("No " + type.getSimpleName() + " in " + failure);
    }

    @Test
    void bothAnalyzersAreRegistered() {
        assertThat(analyzers()).hasAtLeastOneElementOfType(HandlerRegistrationFailureAnalyzer.class)
                .hasAtLeastOneElementOfType(MissingListenerJdbcUrlFailureAnalyzer.class);
    }

    @Test
    void twoHandlersOnOneChannel() {
        app().withBean("orders", Orders.class).withBean("moreOrders", MoreOrders.class)
                .run(failsWith(Problem.DUPLICATE_CHANNEL, analysis -> {
                    assertThat(analysis.getDescription())
                            .contains("Channel 'orders' has two @Listen handlers")
                            .contains("bean 'orders' (" + Orders.class.getName() + ".onOrder(Order))")
                            .contains("bean 'moreOrders' (" + MoreOrders.class.getName() + ")");
                    assertThat(analysis.getAction()).contains("Keep one @Listen(\"orders\") method")
                            .contains("one channel per consumer");
                }));
    }

    @Test
    void aBadChannelName() {
        app().withBean("badChannel", BadChannel.class)
                .run(failsWith(Problem.BAD_CHANNEL_NAME, analysis -> {
                    assertThat(analysis.getDescription()).contains("bean 'badChannel'")
                            .contains("names channel 'order-paid', which is not a valid pgpubsub channel name")
                            .contains(BadChannel.class.getName() + ".onOrder(Order)");
                    assertThat(analysis.getAction()).contains("ASCII letters, digits and underscores");
                }));
    }

    @Test
    void aChannelNameTooLongForTheSchema() {
        app().withBean("longChannel", LongChannel.class)
                .run(failsWith(Problem.BAD_CHANNEL_NAME, analysis -> {
                    assertThat(analysis.getDescription()).contains("bean 'longChannel'").contains("at most 54");
                    assertThat(analysis.getAction()).contains("fits in 63 bytes");
                }));
    }

    @Test
    void aPayloadThatIsNotARecord() {
        app().withBean("notARecord", NotARecord.class)
                .run(failsWith(Problem.PAYLOAD_NOT_RECORD, analysis -> {
                    assertThat(analysis.getDescription()).contains("bean 'notARecord'")
                            .contains("does not take a record as its payload").contains("java.lang.String");
                    assertThat(analysis.getAction()).contains("Java record");
                }));
    }

    @Test
    void aHandlerMethodThatAnInterfaceProxyHides() {
        app().withUserConfiguration(JdkProxyApp.class)
                .run(failsWith(Problem.METHOD_NOT_ON_PROXY, analysis -> {
                    assertThat(analysis.getDescription()).contains("bean 'hiddenFromProxy'")
                            .contains("interface-based (JDK) proxy")
                            .contains(HiddenFromProxy.class.getName() + ".onInvoice(Invoice)");
                    assertThat(analysis.getAction()).contains("spring.aop.proxy-target-class=true");
                }));
    }

    @Test
    void noJdbcUrlForTheListenConnection() {
        // A DataSource that is not Hikari, and no spring.datasource.url.
        TestApps.runner().withBean(DataSource.class, db::dataSource).withBean("orders", Orders.class)
                .run(context -> {
                    assertThat(context).hasFailed();
                    Throwable failure = context.getStartupFailure();
                    assertThat(findCause(failure, MissingListenerJdbcUrlException.class).dataSourceType())
                            .isEqualTo("org.postgresql.ds.PGSimpleDataSource");
                    FailureAnalysis analysis = analysis(failure);
                    assertThat(analysis.getDescription()).contains("no JDBC URL for its LISTEN connection")
                            .contains("spring.datasource.url is not set");
                    assertThat(analysis.getAction()).contains("Set pgpubsub.listener.jdbc-url")
                            .contains("pgpubsub.listener.enabled=false");
                });
        // The same application starts once the URL is given.
        TestApps.runner().withBean(DataSource.class, db::dataSource).withBean("orders", Orders.class)
                .withPropertyValues("pgpubsub.listener.jdbc-url=" + db.jdbcUrl(), "pgpubsub.listener.username=" + db.user())
                .run(context -> assertThat(context).hasNotFailed());
    }
}
