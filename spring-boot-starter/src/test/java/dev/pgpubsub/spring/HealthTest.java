package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static dev.pgpubsub.spring.TestApps.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The listener's health indicator in real contexts on a real Postgres: UP with details while the
 * listener runs, still UP but saying DEGRADED while the database is away (within the outage limit)
 * and UP again once it is back, DOWN with the reason when the listener stopped by itself,
 * OUT_OF_SERVICE before the start, while stopping and after; none without Spring Boot's health
 * classes, with the listener disabled, or turned off.
 */
@PostgresTest
class HealthTest {

    /** Records each order in the claim transaction. */
    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            TestApps.recordHandled(context, order.n(), false);
        }
    }

    /** Blocks each order's handler until released (or for two minutes at most). */
    public static class BlockingOrders {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws InterruptedException {
            entered.countDown();
            release.await(2, TimeUnit.MINUTES);
        }
    }

    private final TestDatabase db;

    HealthTest(TestDatabase db) {
        this.db = db;
    }

    private static ApplicationContextRunner app(TestDatabase on) {
        return TestApps.runner()
                .withConfiguration(AutoConfigurations.of(PgPubSubHealthAutoConfiguration.class,
                        HealthContributorRegistryAutoConfiguration.class))
                .withBean(DataSource.class, () -> TestApps.hikari(on));
    }

    private static Health health(org.springframework.context.ApplicationContext context) {
        return context.getBean("pgPubSubHealthIndicator", HealthIndicator.class).health();
    }

    @Test
    void upWithDetailsWhileTheListenerRunsDegradedWhileTheDatabaseIsAwayAndUpAgainOnceItIsBack(
            EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase own = server.createDatabase("health_outage")) {
            TestApps.createHandledTable(own);
            app(own).withBean("orders", Orders.class, Orders::new)
                    .withPropertyValues("pgpubsub.listener.poll-interval=500ms", "pgpubsub.listener.outage-limit=10m")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        // Actuator's component name: the bean name less its HealthIndicator suffix.
                        assertThat(context.getBean(HealthContributorRegistry.class).getContributor("pgPubSub"))
                                .isSameAs(context.getBean("pgPubSubHealthIndicator"));
                        context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(1));
                        await().atMost(AWAIT).until(() -> own.number("SELECT count(*) FROM handled") == 1);
                        await().atMost(AWAIT).until(() -> health(context).getDetails().get("tasksDone").equals(1L));
                        Health up = health(context);
                        assertThat(up.getStatus()).isEqualTo(Status.UP);
                        assertThat(up.getDetails()).containsEntry("listenerHealth", "UP")
                                .containsEntry("reason", "listening on 1 channel with 2 workers")
                                .containsEntry("state", "running")
                                .containsEntry("channels", List.of("orders"))
                                .containsEntry("handlerBeans", List.of("orders"))
                                .containsEntry("workers", 2)
                                .containsEntry("listen", "connected")
                                .containsEntry("tasksDone", 1L)
                                .containsEntry("tasksFailed", 0L)
                                .containsEntry("deadLettered", 0L)
                                .doesNotContainKey("outageSince");

                        Instant beforeStop = Instant.now();
                        server.stop();
                        try {
                            await().atMost(AWAIT).until(() -> "DEGRADED".equals(health(context).getDetails()
                                    .get("listenerHealth")));
                            Health degraded = health(context);
                            assertThat(degraded.getStatus()).as("within the outage limit").isEqualTo(Status.UP);
                            assertThat(degraded.getDetails()).containsEntry("state", "running")
                                    .containsEntry("listen", "reconnecting")
                                    .containsKey("outageSince");
                            assertThat(Instant.parse((String) degraded.getDetails().get("outageSince")))
                                    .isBetween(beforeStop.minusSeconds(1), Instant.now());
                            assertThat((String) degraded.getDetails().get("reason")).contains("the LISTEN connection was lost at");
                        } finally {
                            server.start();
                        }
                        await().atMost(Duration.ofMinutes(2)).until(() -> "UP".equals(health(context).getDetails()
                                .get("listenerHealth")));
                        assertThat(health(context).getStatus()).isEqualTo(Status.UP);
                        assertThat(health(context).getDetails()).containsEntry("listen", "connected")
                                .doesNotContainKey("outageSince");
                        context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(2));
                        await().atMost(AWAIT).until(() -> own.number("SELECT count(*) FROM handled") == 2);
                    });
        }
    }

    /** A handler that hangs, with no abandoned thread allowed: no worker is left, and the listener stops itself. */
    public static class HangingOrders {
        @Listen("orders")
        public void onOrder(Order order) throws InterruptedException {
            Thread.sleep(2_000);
        }
    }

    @Test
    void downWithTheReasonWhenTheListenerStoppedByItself() throws Exception {
        TestApps.createHandledTable(db);
        app(db).withBean("orders", HangingOrders.class, HangingOrders::new)
                .withPropertyValues("pgpubsub.listener.workers=1", "pgpubsub.listener.handler-timeout=200ms",
                        "pgpubsub.listener.max-abandoned-threads=0", "pgpubsub.schema=health_failure",
                        // The task must reach a worker, not start-up recovery, which stops for another reason.
                        "pgpubsub.listener.recover-on-start=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(health(context).getStatus()).isEqualTo(Status.UP);
                    context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(1));
                    await().atMost(AWAIT).until(() -> health(context).getStatus().equals(Status.DOWN));
                    Health down = health(context);
                    assertThat((String) down.getDetails().get("reason"))
                            .startsWith("the listener stopped by itself and runs no handlers until the application restarts")
                            .contains("no worker is left to claim tasks");
                    assertThat((String) down.getDetails().get("error")).startsWith(IllegalStateException.class.getName());
                    assertThat(down.getDetails()).containsEntry("channels", List.of("orders"));
                });
    }

    @Test
    void outOfServiceBeforeTheStartWhileStoppingAndAfterTheStop() throws Exception {
        app(db).withBean("orders", BlockingOrders.class, BlockingOrders::new)
                .withPropertyValues("pgpubsub.listener.shutdown-grace=60s", "pgpubsub.schema=health_lifecycle")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    // A second lifecycle over the same beans, not started yet.
                    ListenerLifecycle second = new ListenerLifecycle(context.getBean(PgPubSubProperties.class),
                            context.getBean(DataSource.class), context.getEnvironment());
                    second.setBeanFactory(context.getBeanFactory());
                    second.afterSingletonsInstantiated();
                    PgPubSubHealthIndicator indicator = new PgPubSubHealthIndicator(second,
                            context.getBean(PgPubSubProperties.class));
                    Health before = indicator.health();
                    assertThat(before.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
                    assertThat(before.getDetails()).containsEntry("state", "not started")
                            .containsEntry("channels", List.of("orders"));
                    second.start();
                    try {
                        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
                    } finally {
                        second.stop();
                    }
                    assertThat(indicator.health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
                    assertThat(indicator.health().getDetails()).containsEntry("state", "stopped");

                    // The context's own listener, stopping while a handler runs: the health check
                    // answers at once, though stopping waits for the handler (up to the 60 s grace).
                    BlockingOrders orders = context.getBean(BlockingOrders.class);
                    ListenerLifecycle lifecycle = context.getBean(ListenerLifecycle.class);
                    context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(1));
                    assertThat(orders.entered.await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    CountDownLatch stopped = new CountDownLatch(1);
                    lifecycle.stop(stopped::countDown);
                    try {
                        await().atMost(AWAIT).until(() -> lifecycle.state() == ListenerLifecycle.State.STOPPING);
                        Health stopping = CompletableFuture.supplyAsync(() -> health(context)).get(20, TimeUnit.SECONDS);
                        assertThat(stopping.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
                        assertThat(stopping.getDetails()).containsEntry("state", "stopping");
                        assertThat(lifecycle.listener()).isPresent();
                        assertThat(stopped.getCount()).isEqualTo(1);
                    } finally {
                        orders.release.countDown();
                    }
                    assertThat(stopped.await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                    assertThat(health(context).getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
                    assertThat(health(context).getDetails()).containsEntry("state", "stopped");
                });
    }

    @Test
    void aNodeWithoutHandlerBeansIsUpAndSaysSo() {
        app(db).withPropertyValues("pgpubsub.schema=health_none").run(context -> {
            assertThat(context).hasNotFailed();
            Health health = health(context);
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("listener", "none: no bean has @Listen methods");
        });
    }

    @Test
    void noIndicatorWithoutSpringBootsHealthClassesWithTheListenerDisabledOrWhenTurnedOff() {
        TestApps.runner()
                .withConfiguration(AutoConfigurations.of(PgPubSubHealthAutoConfiguration.class))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
                .withPropertyValues("pgpubsub.schema=health_absent")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(ListenerLifecycle.class)
                        .doesNotHaveBean("pgPubSubHealthIndicator"));
        app(db).withBean("orders", Orders.class, Orders::new)
                .withPropertyValues("pgpubsub.listener.enabled=false", "pgpubsub.schema=health_absent")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ListenerLifecycle.class)
                        .doesNotHaveBean("pgPubSubHealthIndicator"));
        app(db).withPropertyValues("management.health.pgpubsub.enabled=false", "pgpubsub.schema=health_absent")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(ListenerLifecycle.class)
                        .doesNotHaveBean("pgPubSubHealthIndicator"));
        app(db).withPropertyValues("management.health.defaults.enabled=false", "management.health.pgpubsub.enabled=true",
                        "pgpubsub.schema=health_absent")
                .run(context -> assertThat(context).hasNotFailed().hasBean("pgPubSubHealthIndicator"));
    }
}
