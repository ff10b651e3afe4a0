package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.InMemoryTracing;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Trace continuity: a handler runs in a span whose parent is the span its task was published in,
 * through the database, with the ids in the MDC; across retries, dead letters and their re-queue.
 */
@PostgresTest
class TracingTest {

    private static final RetryPolicy TWICE = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);

    private final TestDatabase db;
    private final InMemoryTracing tracing = new InMemoryTracing();
    private final Publisher publisher = Publisher.builder().observationRegistry(tracing.registry()).build();
    private final CapturedLogs log = new CapturedLogs();
    private final ch.qos.logback.classic.Logger root =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    /** What each attempt saw: its MDC and the tracer's current span, by "id:attempt". */
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();

    record Seen(Map<String, String> mdc, String traceId, String spanId) {
    }

    TracingTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
        log.start();
        root.addAppender(log);
    }

    @AfterEach
    void detach() {
        root.detachAppender(log);
        tracing.close();
    }

    @Test
    void theHandlerContinuesThePublishersTraceWithTheIdsInTheMdcOnEveryAttempt() throws Exception {
        // Order 1 succeeds; order 2 fails once, then succeeds: both attempts continue the trace.
        InMemoryTracing.InSpan<long[]> request = tracing.inSpan("POST /orders", () -> publisher.inNewTransaction(
                db.dataSource(), (tx, c) -> tx.publishAll(ORDERS, List.of(new Order(1), new Order(2)))));
        long[] ids = request.value();
        SpanData publish = span("orders publish");

        try (Listener listener = tracedListener(n -> n == 2).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2
                    && tracing.finishedSpans().stream().filter(s -> s.getName().equals("orders process")).count() == 3);
        }

        List<SpanData> process = tracing.finishedSpans().stream().filter(s -> s.getName().equals("orders process")).toList();
        assertThat(process).hasSize(3).allSatisfy(s -> {
            assertThat(s.getKind()).isEqualTo(SpanKind.CONSUMER);
            assertThat(s.getTraceId()).isEqualTo(request.traceId());
            assertThat(s.getParentSpanId()).isEqualTo(publish.getSpanId());
        });
        assertThat(process).filteredOn(s -> s.getStatus().getStatusCode() == StatusCode.ERROR).singleElement()
                .satisfies(s -> assertThat(s.getAttributes().asMap().toString()).contains("task.id=" + ids[1], "attempt=1"));

        for (String attempt : List.of(ids[0] + ":1", ids[1] + ":1", ids[1] + ":2")) {
            Seen in = seen.get(attempt);
            assertThat(in.traceId()).as(attempt).isEqualTo(request.traceId());
            assertThat(in.mdc()).as(attempt).containsEntry("traceId", request.traceId())
                    .containsEntry("spanId", in.spanId()).containsEntry("parentId", publish.getSpanId())
                    .containsEntry("pgpubsub.task.id", attempt.substring(0, attempt.indexOf(':')));
            assertThat(process).extracting(SpanData::getSpanId).contains(in.spanId());
        }
        // The listener's warning about the failed attempt carries the trace; its next lines do not.
        ILoggingEvent failed = single(log.matching("Task " + ids[1] + " on channel 'orders' failed (attempt 1 of 2)"));
        assertThat(failed.getMDCPropertyMap()).containsEntry("traceId", request.traceId())
                .containsEntry("spanId", seen.get(ids[1] + ":1").spanId());
        assertThat(log.events()).filteredOn(e -> e.getThreadName().equals(failed.getThreadName()))
                .filteredOn(e -> !e.getFormattedMessage().contains("Task ") && !e.getFormattedMessage().startsWith("handling "))
                .allSatisfy(e -> assertThat(e.getMDCPropertyMap()).doesNotContainKeys("traceId", "spanId", "parentId"));
    }

    @Test
    void aDeadLetterKeepsItsTraceContextAndItsRequeuedTaskContinuesTheTrace() throws Exception {
        InMemoryTracing.InSpan<Long> request = tracing.inSpan("POST /orders",
                () -> publisher.publish(db.dataSource(), ORDERS, new Order(3)));
        SpanData publish = span("orders publish");
        String traceContext = db.strings("SELECT trace_context::text FROM pgpubsub.notification").get(0);

        try (Listener listener = tracedListener(n -> true).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1);
        }
        assertThat(db.strings("SELECT trace_context::text FROM pgpubsub.dead_letter")).containsExactly(traceContext);

        assertThat(DeadLetters.of(db.dataSource()).requeue(request.value())).isEqualTo(1);
        assertThat(db.strings("SELECT trace_context::text FROM pgpubsub.notification")).containsExactly(traceContext);
        try (Listener listener = tracedListener(n -> false).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        assertThat(seen.get(request.value() + ":1").mdc()).containsEntry("traceId", request.traceId())
                .containsEntry("parentId", publish.getSpanId());
        // The line about the dead letters comes after the task, on the same worker: none of its trace.
        ILoggingEvent buried = log.matching("moved to the dead letters").get(0);
        ILoggingEvent lastAttempt = single(log.matching("Task " + request.value() + " on channel 'orders' failed its last"));
        assertThat(lastAttempt.getMDCPropertyMap()).containsEntry("traceId", request.traceId());
        assertThat(buried.getThreadName()).isEqualTo(lastAttempt.getThreadName());
        assertThat(buried.getMDCPropertyMap()).doesNotContainKeys("traceId", "spanId", "parentId");
    }

    @Test
    void aTaskWithoutATraceContextOrWithOneThatDoesNotReadStartsATraceOfItsOwn() throws Exception {
        long plain = Fixtures.publishOrders(db, 1, 2)[0];
        // Written past publish(), which would refuse it: the handler runs all the same.
        long garbled = db.number("INSERT INTO pgpubsub.notification (channel, payload, trace_context)"
                + " VALUES ('orders', '{\"n\": 2}', '[\"not\", \"headers\"]') RETURNING id");

        try (Listener listener = tracedListener(n -> false).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
        }

        for (long id : List.of(plain, garbled)) {
            Seen in = seen.get(id + ":1");
            assertThat(in.mdc()).as("task " + id).containsEntry("traceId", in.traceId()).containsEntry("spanId", in.spanId())
                    .doesNotContainKey("parentId");
            SpanData span = tracing.finishedSpans().stream().filter(s -> s.getSpanId().equals(in.spanId())).findFirst()
                    .orElseThrow();
            assertThat(span.getParentSpanContext().isValid()).as("task " + id).isFalse();
        }
        assertThat(seen.get(plain + ":1").traceId()).isNotEqualTo(seen.get(garbled + ":1").traceId());
    }

    @Test
    void withoutARegistryHandlersRunOutsideAnyTrace() throws Exception {
        tracing.inSpan("POST /orders", () -> publisher.publish(db.dataSource(), ORDERS, new Order(1)));
        Map<String, Map<String, String>> mdc = new ConcurrentHashMap<>();
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(false).on(ORDERS, (o, ctx) -> {
            mdc.put("in", MDC.getCopyOfContextMap());
            recordHandled(ctx, o.n(), "x");
        }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        assertThat(mdc.get("in")).containsKey("pgpubsub.task.id").doesNotContainKeys("traceId", "spanId");
        assertThat(tracing.finishedSpans()).extracting(SpanData::getName).doesNotContain("orders process");
    }

    /**
     * A tracer that throws (when it starts a span, or when it ends one) never fails a batch nor
     * charges a task, and leaves nothing of a trace on the worker thread.
     */
    @Test
    void aTracerThatThrowsNeverFailsTheBatch() throws Exception {
        for (String where : List.of("start", "scope", "stop")) {
            ObservationRegistry broken = ObservationRegistry.create();
            broken.observationConfig().observationHandler(new ObservationHandler<Observation.Context>() {
                @Override
                public boolean supportsContext(Observation.Context context) {
                    return true;
                }

                @Override
                public void onStart(Observation.Context context) {
                    throwIf(where, "start");
                }

                @Override
                public void onScopeOpened(Observation.Context context) {
                    throwIf(where, "scope");
                }

                @Override
                public void onStop(Observation.Context context) {
                    throwIf(where, "stop");
                }
            });
            Fixtures.reset(db);
            seen.clear();
            long[] ids = Fixtures.publishOrders(db, 1, 11);
            try (Listener listener = listenerFor(db).workers(1).batchSize(5).recoverOnStart(false)
                    .observationRegistry(broken)
                    .on(ORDERS, (o, ctx) -> {
                        seen.put(ctx.id() + ":" + ctx.attempt(), new Seen(MDC.getCopyOfContextMap(), null, null));
                        recordHandled(ctx, o.n(), "x");
                    }).start()) {
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 10);
                assertThat(listener.stats().tasksFailed()).as(where).isZero();
            }
            assertThat(count(db, "SELECT count(DISTINCT task_id) FROM handled WHERE attempt = 1")).as(where).isEqualTo(10);
            assertThat(seen.keySet()).as(where).hasSize(10);
            assertThat(seen.get(ids[9] + ":1").mdc()).as(where).doesNotContainKeys("traceId", "spanId");
        }
        assertThat(log.matching("The tracing of handlers threw")).isNotEmpty();
    }

    /** Handlers added to the registry after the listener was built are used: it is asked at each task. */
    @Test
    void aRegistryGivenItsHandlersAfterTheListenerWasBuiltTracesAllTheSame() throws Exception {
        ObservationRegistry late = ObservationRegistry.create();
        Listener listener = tracedListener(n -> false).observationRegistry(late).build();
        late.observationConfig().observationHandler(new DefaultTracingObservationHandler(tracing.tracer()));
        long id = Fixtures.publishOrders(db, 1, 2)[0];
        try (listener) {
            listener.start();
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        }
        assertThat(seen.get(id + ":1").mdc()).containsKey("traceId");
    }

    private static void throwIf(String where, String here) {
        if (where.equals(here)) {
            throw new IllegalStateException("tracer broken at " + here);
        }
    }

    /** A listener in the same tracer; orders whose {@code n} fails {@code failsFirst} throw on their first attempt. */
    private ListenerBuilder tracedListener(java.util.function.LongPredicate failsFirst) {
        return listenerFor(db).workers(1).batchSize(1).retryPolicy(TWICE).recoverOnStart(false)
                .observationRegistry(tracing.registry())
                .on(ORDERS, (o, ctx) -> {
                    Span current = tracing.tracer().currentSpan();
                    seen.put(ctx.id() + ":" + ctx.attempt(), new Seen(MDC.getCopyOfContextMap(),
                            current == null ? null : current.context().traceId(),
                            current == null ? null : current.context().spanId()));
                    if (failsFirst.test(o.n()) && (ctx.attempt() == 1 || o.n() == 3)) {
                        throw new IllegalStateException("order " + o.n() + " refused");
                    }
                    recordHandled(ctx, o.n(), "x");
                });
    }

    private SpanData span(String name) {
        return tracing.finishedSpans().stream().filter(s -> s.getName().equals(name)).reduce((a, b) -> {
            throw new AssertionError("More than one span named " + name);
        }).orElseThrow(() -> new AssertionError("No span named " + name + " in " + tracing.finishedSpans()));
    }

    private static ILoggingEvent single(List<ILoggingEvent> events) {
        assertThat(events).hasSize(1);
        return events.get(0);
    }
}
