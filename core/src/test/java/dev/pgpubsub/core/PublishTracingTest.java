package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.InMemoryTracing;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tasks carry the trace context of the code that published them, from Java and from SQL. */
@PostgresTest
class PublishTracingTest {

    record OrderPlaced(long orderId) {
    }

    static final Channel<OrderPlaced> ORDERS = Channel.of("orders", OrderPlaced.class);
    private static final String TRACEPARENT = "^00-%s-[0-9a-f]{16}-01$";

    private final TestDatabase db;
    private final InMemoryTracing tracing = new InMemoryTracing();
    private final Publisher publisher = Publisher.builder().observationRegistry(tracing.registry()).build();

    PublishTracingTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification");
    }

    @AfterEach
    void closeTracer() {
        tracing.close();
    }

    @Test
    void aTaskPublishedInASpanCarriesTheTraceparentOfAPublishSpanThatIsItsChild() throws SQLException {
        InMemoryTracing.InSpan<Long> request = tracing.inSpan("POST /orders",
                () -> publisher.publish(db.dataSource(), ORDERS, new OrderPlaced(1)));

        SpanData publish = only(tracing.finishedSpans(), "orders publish");
        assertThat(publish.getKind()).isEqualTo(SpanKind.PRODUCER);
        assertThat(publish.getTraceId()).isEqualTo(request.traceId());
        assertThat(publish.getParentSpanId()).isEqualTo(request.spanId());
        assertThat(publish.getAttributes().asMap().toString()).contains("channel=orders");
        assertThat(db.strings("SELECT trace_context->>'traceparent' FROM pgpubsub.notification WHERE id = " + request.value()))
                .containsExactly("00-" + request.traceId() + "-" + publish.getSpanId() + "-01");
    }

    @Test
    void aBatchCarriesOneTraceContextOnEveryTask() throws SQLException {
        InMemoryTracing.InSpan<long[]> request = tracing.inSpan("import", () -> publisher.inNewTransaction(db.dataSource(),
                (tx, c) -> tx.publishAll(ORDERS, List.of(new OrderPlaced(1), new OrderPlaced(2), new OrderPlaced(3)))));

        assertThat(request.value()).hasSize(3);
        SpanData publish = only(tracing.finishedSpans(), "orders publish");
        assertThat(publish.getParentSpanId()).isEqualTo(request.spanId());
        assertThat(db.strings("SELECT DISTINCT trace_context->>'traceparent' FROM pgpubsub.notification"))
                .containsExactly("00-" + request.traceId() + "-" + publish.getSpanId() + "-01");
    }

    @Test
    void outsideASpanThePublishStartsATraceOfItsOwn() throws SQLException {
        publisher.publish(db.dataSource(), ORDERS, new OrderPlaced(1));

        SpanData publish = only(tracing.finishedSpans(), "orders publish");
        assertThat(publish.getParentSpanContext().isValid()).isFalse();
        assertThat(db.strings("SELECT trace_context->>'traceparent' FROM pgpubsub.notification"))
                .singleElement().asString().matches(TRACEPARENT.formatted(publish.getTraceId()));
    }

    @Test
    void withoutATracerTasksCarryNoTraceContext() throws SQLException {
        Publisher untraced = Publisher.create();
        Publisher noTracingHandler = Publisher.builder().observationRegistry(ObservationRegistry.create()).build();
        Publisher noop = Publisher.builder().observationRegistry(ObservationRegistry.NOOP).build();

        tracing.inSpan("request", () -> {
            untraced.publish(db.dataSource(), ORDERS, new OrderPlaced(1));
            noTracingHandler.publish(db.dataSource(), ORDERS, new OrderPlaced(2));
            return noop.publish(db.dataSource(), ORDERS, new OrderPlaced(3));
        });

        assertThat(db.strings("SELECT coalesce(trace_context::text, 'none') FROM pgpubsub.notification ORDER BY id"))
                .containsExactly("none", "none", "none");
        assertThatThrownBy(() -> Publisher.builder().observationRegistry(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leave it unset");
    }

    @Test
    void aTracerThatThrowsNeverFailsThePublish() throws SQLException {
        ObservationRegistry broken = ObservationRegistry.create();
        broken.observationConfig().observationHandler(new ObservationHandler<Observation.Context>() {
            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }

            @Override
            public void onStart(Observation.Context context) {
                throw new IllegalStateException("tracer broken");
            }
        });
        long id = Publisher.builder().observationRegistry(broken).build().publish(db.dataSource(), ORDERS, new OrderPlaced(1));
        assertThat(db.strings("SELECT coalesce(trace_context::text, 'none') FROM pgpubsub.notification WHERE id = " + id))
                .containsExactly("none");
    }

    @Test
    void aFailedPublishEndsItsSpanWithTheError() {
        Publisher elsewhere = Publisher.builder().schema("not_installed").observationRegistry(tracing.registry()).build();

        assertThatThrownBy(() -> elsewhere.publish(db.dataSource(), ORDERS, new OrderPlaced(1)))
                .isInstanceOf(PgPubSubException.class).hasMessageContaining("not_installed");

        SpanData publish = only(tracing.finishedSpans(), "orders publish");
        assertThat(publish.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    }

    @Test
    void sqlPublishTakesATraceContextAndRefusesOneNoTracerCouldRead() throws SQLException {
        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        try (Connection c = db.connect()) {
            sql(c, "SELECT pgpubsub.publish('orders', '{}', trace_context => '{\"traceparent\": \"" + traceparent
                    + "\", \"tracestate\": \"congo=t61rcWkgMzE\"}')");
            sql(c, "SELECT pgpubsub.publish_all('orders', '[{}, {}]', NULL, '{\"b3\": \"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\"}')");
            sql(c, "SELECT pgpubsub.publish('orders', '{}')");
        }
        assertThat(db.strings("SELECT coalesce(trace_context::text, 'none') FROM pgpubsub.notification ORDER BY id"))
                .containsExactly("{\"tracestate\": \"congo=t61rcWkgMzE\", \"traceparent\": \"" + traceparent + "\"}",
                        "{\"b3\": \"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\"}",
                        "{\"b3\": \"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1\"}", "none");

        assertRefused("'\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"'", "is not a JSON object of strings",
                "{\"traceparent\"");
        assertRefused("'{\"traceparent\": 1}'", "is not a JSON object of strings", "e.g.");
        assertRefused("'{\"traceparent\": \"00-abc-01\"}'", "traceparent \"00-abc-01\" is not a W3C traceparent", "32 hex");
        assertRefused("jsonb_build_object('tracestate', repeat('x', 5000))", "more than 4096", "belongs in the payload");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(4);
    }

    private void assertRefused(String traceContext, String message, String hint) {
        for (String call : List.of("publish('orders', '{}', NULL, " + traceContext + ")",
                "publish_all('orders', '[{}]', NULL, " + traceContext + ")")) {
            assertThatThrownBy(() -> {
                try (Connection c = db.connect()) {
                    sql(c, "SELECT pgpubsub." + call);
                }
            }).as(call).isInstanceOf(SQLException.class).hasMessageContaining(message).hasMessageContaining(hint);
        }
    }

    private static void sql(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.executeQuery().close();
        }
    }

    private static SpanData only(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).reduce((a, b) -> {
            throw new AssertionError("More than one span named " + name + ": " + spans);
        }).orElseThrow(() -> new AssertionError("No span named " + name + " in " + spans));
    }
}
