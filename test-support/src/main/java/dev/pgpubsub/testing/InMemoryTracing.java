package dev.pgpubsub.testing;

import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.ArrayListSpanProcessor;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.micrometer.tracing.otel.bridge.Slf4JEventListener;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;
import java.util.function.Supplier;

/**
 * A real tracer for tests: OpenTelemetry's SDK, bridged to the Micrometer Observation API as Spring
 * Boot sets it up (W3C propagation, the tracing handlers for producers, consumers and the rest, trace
 * and span ids in the MDC), sampling every trace and keeping the finished spans in memory.
 */
public final class InMemoryTracing implements AutoCloseable {

    private final ArrayListSpanProcessor spans = new ArrayListSpanProcessor();
    private final SdkTracerProvider provider;
    private final OtelTracer tracer;
    private final ObservationRegistry registry = ObservationRegistry.create();

    /** A tracer and an observation registry wired to it. */
    public InMemoryTracing() {
        provider = SdkTracerProvider.builder().setSampler(Sampler.alwaysOn()).addSpanProcessor(spans).build();
        io.opentelemetry.api.trace.Tracer otel = provider.get("pgpubsub-tests");
        OtelCurrentTraceContext current = new OtelCurrentTraceContext();
        Slf4JEventListener mdc = new Slf4JEventListener();
        tracer = new OtelTracer(otel, current, mdc::onEvent, new OtelBaggageManager(current, List.of(), List.of()));
        OtelPropagator propagator = new OtelPropagator(ContextPropagators.create(W3CTraceContextPropagator.getInstance()), otel);
        registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)));
    }

    /**
     * The registry to give the code under test.
     *
     * @return the observation registry, with the tracing handlers
     */
    public ObservationRegistry registry() {
        return registry;
    }

    /**
     * The tracer behind it.
     *
     * @return the tracer
     */
    public Tracer tracer() {
        return tracer;
    }

    /**
     * Runs {@code work} in a new span named {@code name}, current on this thread.
     *
     * @param <T>  what the work returns
     * @param name the span's name
     * @param work what to run in it
     * @return what the work returned, and the span it ran in (ended)
     */
    public <T> InSpan<T> inSpan(String name, Supplier<T> work) {
        Span span = tracer.nextSpan().name(name).start();
        try (Tracer.SpanInScope scope = tracer.withSpan(span)) {
            return new InSpan<>(work.get(), span.context().traceId(), span.context().spanId());
        } finally {
            span.end();
        }
    }

    /**
     * What a {@link #inSpan} returned.
     *
     * @param value   the work's result
     * @param traceId the span's trace id (32 hex digits)
     * @param spanId  the span's id (16 hex digits)
     * @param <T>     the work's result type
     */
    public record InSpan<T>(T value, String traceId, String spanId) {
    }

    /**
     * The spans finished so far, oldest first.
     *
     * @return a copy of them
     */
    public List<SpanData> finishedSpans() {
        return List.copyOf(spans.spans());
    }

    @Override
    public void close() {
        provider.close();
    }
}
