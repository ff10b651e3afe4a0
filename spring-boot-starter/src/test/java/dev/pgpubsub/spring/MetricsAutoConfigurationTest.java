package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static dev.pgpubsub.spring.TestApps.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.listener.micrometer.PgPubSubMetrics;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * With a Micrometer MeterRegistry in the context (Spring Boot's own, as Actuator sets it up), the
 * Publisher bean and the listener report their meters to it; without one, or with
 * {@code pgpubsub.metrics.enabled=false}, nothing is reported and nothing of Micrometer is needed.
 */
@PostgresTest
class MetricsAutoConfigurationTest {

    /** A handler bean that records each task in the claim transaction. */
    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            TestApps.recordHandled(context, order.n(), false);
        }
    }

    private final TestDatabase db;

    MetricsAutoConfigurationTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTable() throws SQLException {
        TestApps.createHandledTable(db);
    }

    /** An application with Spring Boot's metrics auto-configuration: a SimpleMeterRegistry. */
    private ApplicationContextRunner app() {
        return TestApps.runner()
                .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
                        PgPubSubMetricsAutoConfiguration.class))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class);
    }

    @Test
    void thePublisherAndTheListenerReportToSpringBootsMeterRegistry() {
        app().run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(PgPubSubMetrics.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            context.getBean(Publisher.class).inNewTransaction(context.getBean(DataSource.class), (tx, c) ->
                    tx.publishAll(ORDERS, LongStream.range(0, 10).mapToObj(Order::new).toList()));
            await().atMost(AWAIT).until(() -> count(registry, "pgpubsub.tasks.succeeded") == 10);
            assertThat(count(registry, "pgpubsub.tasks.published")).isEqualTo(10);
            assertThat(count(registry, "pgpubsub.tasks.claimed")).isEqualTo(10);
            assertThat(registry.get("pgpubsub.handler.duration").tag("channel", "orders").timer().count()).isEqualTo(10);
            assertThat(db.number("SELECT count(*) FROM handled")).isEqualTo(10);
        });
    }

    @Test
    void turnedOffOrWithoutARegistryNothingIsReported() {
        app().withPropertyValues("pgpubsub.metrics.enabled=false").run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(PgPubSubMetrics.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled") == 1);
            assertThat(registry.find("pgpubsub.tasks.published").meters()).isEmpty();
        });
        TestApps.runner()
                .withConfiguration(AutoConfigurations.of(PgPubSubMetricsAutoConfiguration.class))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withPropertyValues("pgpubsub.listener.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PgPubSubMetrics.class));
        // And an application without Micrometer at all starts, with its publisher.
        TestApps.runner()
                .withConfiguration(AutoConfigurations.of(PgPubSubMetricsAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader("io.micrometer"))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withPropertyValues("pgpubsub.listener.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(Publisher.class)
                        .doesNotHaveBean(PgPubSubMetrics.class));
    }

    private static double count(MeterRegistry registry, String name) {
        Counter counter = registry.find(name).tag("channel", "orders").counter();
        return counter == null ? 0 : counter.count();
    }
}
