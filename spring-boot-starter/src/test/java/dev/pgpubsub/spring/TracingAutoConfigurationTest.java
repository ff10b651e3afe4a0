package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static dev.pgpubsub.spring.TestApps.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.ListenerBuilder;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.InMemoryTracing;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * With an ObservationRegistry in the context (as Spring Boot sets it up, with a tracer bridged to
 * it), the Publisher bean stores the trace context with each task and the handler beans continue
 * the trace; {@code pgpubsub.tracing.enabled=false} turns it off; customizer beans apply to both
 * builders; an application without the Observation API starts all the same.
 */
@PostgresTest
class TracingAutoConfigurationTest {

    /** What each handled order saw in the MDC, by its n. */
    static final Map<Long, Map<String, String>> SEEN = new ConcurrentHashMap<>();

    /** A handler bean that keeps its MDC and records the task. */
    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            Map<String, String> mdc = MDC.getCopyOfContextMap();
            SEEN.put(order.n(), mdc == null ? Map.of() : mdc);
            TestApps.recordHandled(context, order.n(), false);
        }
    }

    private final TestDatabase db;
    private final InMemoryTracing tracing = new InMemoryTracing();

    TracingAutoConfigurationTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTable() throws SQLException {
        TestApps.createHandledTable(db);
        SEEN.clear();
    }

    @AfterEach
    void closeTracer() {
        tracing.close();
    }

    /** An application whose ObservationRegistry has a tracer bridged to it. */
    private ApplicationContextRunner app() {
        return TestApps.runner()
                .withConfiguration(AutoConfigurations.of(PgPubSubTracingAutoConfiguration.class))
                .withBean(ObservationRegistry.class, tracing::registry)
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class);
    }

    @Test
    void thePublisherBeanCarriesTheRequestsTraceToTheHandlerBean() {
        app().run(context -> {
            assertThat(context).hasNotFailed();
            Publisher publisher = context.getBean(Publisher.class);
            InMemoryTracing.InSpan<Long> request = tracing.inSpan("POST /orders",
                    () -> publisher.publish(context.getBean(DataSource.class), ORDERS, new Order(1)));
            await().atMost(AWAIT).until(() -> SEEN.containsKey(1L));
            SpanData publish = tracing.finishedSpans().stream().filter(s -> s.getName().equals("orders publish"))
                    .findFirst().orElseThrow();
            assertThat(publish.getParentSpanId()).isEqualTo(request.spanId());
            assertThat(SEEN.get(1L)).containsEntry("traceId", request.traceId()).containsEntry("parentId", publish.getSpanId())
                    .containsEntry("pgpubsub.task.id", Long.toString(request.value()));
        });
    }

    @Test
    void turnedOffTasksCarryNoTraceAndHandlersRunOutsideOne() {
        app().withPropertyValues("pgpubsub.tracing.enabled=false").run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean(PgPubSubTracingAutoConfiguration.class);
            Publisher publisher = context.getBean(Publisher.class);
            tracing.inSpan("POST /orders", () -> publisher.publish(context.getBean(DataSource.class), ORDERS, new Order(2)));
            await().atMost(AWAIT).until(() -> SEEN.containsKey(2L));
            assertThat(SEEN.get(2L)).containsKey("pgpubsub.task.id").doesNotContainKeys("traceId", "spanId");
            assertThat(db.strings("SELECT count(*)::text FROM pgpubsub.notification WHERE trace_context IS NOT NULL"))
                    .containsExactly("0");
            assertThat(tracing.finishedSpans()).extracting(SpanData::getName).doesNotContain("orders publish");
        });
    }

    /** The library's customizer comes first: an application's own has the last word (no tracing for its listener). */
    @Test
    void anApplicationsCustomizerOverridesTheLibrarysTracing() {
        app().withBean(PgPubSubCustomizer.class, () -> new PgPubSubCustomizer() {
            @Override
            public void customize(ListenerBuilder listener) {
                listener.observationRegistry(ObservationRegistry.NOOP);
            }
        }).run(context -> {
            assertThat(context).hasNotFailed();
            Publisher publisher = context.getBean(Publisher.class);
            tracing.inSpan("POST /orders", () -> publisher.publish(context.getBean(DataSource.class), ORDERS, new Order(4)));
            await().atMost(AWAIT).until(() -> SEEN.containsKey(4L));
            assertThat(SEEN.get(4L)).doesNotContainKeys("traceId", "spanId");
            assertThat(db.strings("SELECT count(*)::text FROM pgpubsub.notification WHERE trace_context IS NOT NULL"))
                    .containsExactly("0"); // handled and gone
            assertThat(tracing.finishedSpans()).extracting(SpanData::getName).contains("orders publish")
                    .doesNotContain("orders process");
        });
    }

    @Test
    void withSpringBootsRegistryAndNoTracerAndWithoutTheObservationApiTheApplicationRuns() {
        TestApps.runner()
                .withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class,
                        PgPubSubTracingAutoConfiguration.class))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class)
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(PgPubSubTracingAutoConfiguration.class);
                    context.getBean(Publisher.class).publish(context.getBean(DataSource.class), ORDERS, new Order(3));
                    await().atMost(AWAIT).until(() -> SEEN.containsKey(3L));
                    assertThat(SEEN.get(3L)).doesNotContainKeys("traceId");
                });
        TestApps.runner()
                .withConfiguration(AutoConfigurations.of(PgPubSubTracingAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader("io.micrometer"))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withPropertyValues("pgpubsub.listener.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(Publisher.class)
                        .doesNotHaveBean(PgPubSubTracingAutoConfiguration.class));
    }

    @Test
    void customizerBeansApplyToThePublisherAndTheListenerAfterTheProperties() {
        AtomicInteger publishers = new AtomicInteger();
        AtomicInteger listeners = new AtomicInteger();
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class)
                .withPropertyValues("pgpubsub.publisher.max-payload-bytes=100000")
                .withBean(PgPubSubCustomizer.class, () -> new PgPubSubCustomizer() {
                    @Override
                    public void customize(Publisher.Builder publisher) {
                        publishers.incrementAndGet();
                        publisher.maxPayloadBytes(64);
                    }

                    @Override
                    public void customize(ListenerBuilder listener) {
                        listeners.incrementAndGet();
                    }
                })
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(Publisher.class).maxPayloadBytes()).isEqualTo(64);
                    assertThat(publishers).hasValue(1);
                    assertThat(listeners).hasValue(1);
                });
    }
}
