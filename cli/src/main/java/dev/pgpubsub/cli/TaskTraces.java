package dev.pgpubsub.cli;

import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;

/**
 * The standalone listener's tracer, so that each handler continues the trace its task was published
 * in (W3C Trace Context) and the log lines about the task carry its {@code traceId}, {@code spanId}
 * and {@code parentId}: OpenTelemetry's SDK, bridged to the Observation API as Micrometer Tracing
 * does it, honouring the publisher's sampling decision. Spans are not exported: the ids are for
 * finding a task's lines from the trace of the request that published it.
 */
final class TaskTraces implements AutoCloseable {

    private final SdkTracerProvider provider;
    private final ObservationRegistry registry = ObservationRegistry.create();

    TaskTraces() {
        provider = SdkTracerProvider.builder().setSampler(Sampler.parentBased(Sampler.alwaysOn())).build();
        io.opentelemetry.api.trace.Tracer otel = provider.get("dev.pgpubsub.cli");
        OtelCurrentTraceContext current = new OtelCurrentTraceContext();
        OtelTracer tracer = new OtelTracer(otel, current, event -> { }, new OtelBaggageManager(current, List.of(), List.of()));
        OtelPropagator propagator = new OtelPropagator(ContextPropagators.create(W3CTraceContextPropagator.getInstance()), otel);
        registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)));
    }

    /** The registry the listener observes its handlers in. */
    ObservationRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        provider.close();
    }
}
