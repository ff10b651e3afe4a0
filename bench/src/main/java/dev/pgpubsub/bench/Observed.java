package dev.pgpubsub.bench;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.ListenerBuilder;
import dev.pgpubsub.listener.micrometer.PgPubSubMetrics;
import dev.pgpubsub.testing.TestDatabase;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.micrometer.tracing.otel.bridge.Slf4JEventListener;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.sql.Connection;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.LongStream;

/**
 * What a burn-down of the observability scenario runs with, as a deployment would set it up:
 * nothing; {@link PgPubSubMetrics} with its default options (queue depths measured at start and
 * every 30 s) in a Prometheus registry; or those metrics and a tracer. The tracer is OpenTelemetry's
 * SDK bridged through Micrometer Tracing as Spring Boot sets it up (W3C propagation, trace ids in the
 * MDC), sampling every trace, its spans going through the SDK's batch span processor to an exporter
 * that counts them instead of sending them anywhere. The tasks are published through a publisher
 * traced the same way, each transaction in a span of its own, so that they carry a trace context.
 */
final class Observed implements AutoCloseable {

    /** The variants, in the order they run. */
    enum Mode {
        PLAIN("plain"), METRICS("metrics"), METRICS_AND_TRACING("metrics+tracing");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    /** Tasks per seeding transaction (one {@code publishAll}, in one request span). */
    private static final int SEED_BATCH = 1_000;

    private final Mode mode;
    private final PrometheusMeterRegistry meters;
    private final PgPubSubMetrics metrics;
    private final LongAdder exported = new LongAdder();
    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final ObservationRegistry observations;

    Observed(Mode mode) {
        this.mode = mode;
        if (mode == Mode.PLAIN) {
            meters = null;
            metrics = null;
        } else {
            meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            metrics = PgPubSubMetrics.of(meters);
        }
        if (mode == Mode.METRICS_AND_TRACING) {
            provider = SdkTracerProvider.builder().setSampler(Sampler.alwaysOn())
                    .addSpanProcessor(BatchSpanProcessor.builder(new CountingExporter(exported)).build()).build();
            io.opentelemetry.api.trace.Tracer otel = provider.get("pgpubsub-bench");
            OtelCurrentTraceContext current = new OtelCurrentTraceContext();
            Slf4JEventListener mdc = new Slf4JEventListener();
            tracer = new OtelTracer(otel, current, mdc::onEvent, new OtelBaggageManager(current, List.of(), List.of()));
            OtelPropagator propagator = new OtelPropagator(
                    ContextPropagators.create(W3CTraceContextPropagator.getInstance()), otel);
            observations = ObservationRegistry.create();
            observations.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
                    new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                    new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                    new DefaultTracingObservationHandler(tracer)));
        } else {
            provider = null;
            tracer = null;
            observations = null;
        }
    }

    /** The name of a burn-down's variant in the results. */
    static String variant(long tasks, int workers, int batch, Mode mode) {
        return "pgpubsub " + Bench.count(tasks) + " workers=" + workers + " batch=" + batch + ", " + mode.label;
    }

    /**
     * Publishes {@code n} tasks through this variant's publisher, then burns them down with our claim
     * loop (no start-up recovery) and no-op handlers, observed by this variant.
     *
     * @return {tasks per second, JVM CPU microseconds per task, spans exported per task}
     */
    static double[] burnDown(TestDatabase db, long n, int workers, int batch, Mode mode) throws Exception {
        try (Observed observed = new Observed(mode)) {
            observed.seed(db, n);
            return observed.burnDown(db, n, workers, batch);
        }
    }

    /** Installs pgpubsub and publishes {@code n} tasks through this variant's publisher. */
    void seed(TestDatabase db, long n) throws Exception {
        PgPubSub.migrate(db.dataSource());
        Publisher publisher = publisher();
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            for (long from = 0; from < n; from += SEED_BATCH) {
                List<Scenarios.Task> tasks = LongStream.range(from, Math.min(n, from + SEED_BATCH))
                        .mapToObj(Scenarios.Task::new).toList();
                inRequest(() -> {
                    publisher.in(c).publishAll(Scenarios.BENCH, tasks);
                    c.commit();
                });
            }
        }
        db.execute("VACUUM ANALYZE pgpubsub.notification");
    }

    /**
     * Burns down the {@code n} seeded tasks on a listener observed by this variant.
     *
     * @return as {@link #burnDown(TestDatabase, long, int, int, Mode)}
     */
    double[] burnDown(TestDatabase db, long n, int workers, int batch) throws Exception {
        long spansBefore = spansExported();
        double[] r = Scenarios.burnDown(db, n, workers, batch, false, List.of(Scenarios.BENCH), this::configure);
        check(n);
        return new double[] {r[0], r[3], (spansExported() - spansBefore) / (double) n};
    }

    /** The publisher of the seed: observed like the listener. */
    private Publisher publisher() {
        Publisher.Builder builder = Publisher.builder();
        if (metrics != null) {
            builder.observer(metrics);
        }
        if (observations != null) {
            builder.observationRegistry(observations);
        }
        return builder.build();
    }

    /** Adds the metrics and tracing of this variant to a listener. */
    private void configure(ListenerBuilder builder) {
        if (metrics != null) {
            builder.observer(metrics);
        }
        if (observations != null) {
            builder.observationRegistry(observations);
        }
    }

    /** Runs {@code work} in a span of its own when tracing, as a request that publishes would. */
    private void inRequest(Work work) throws Exception {
        if (tracer == null) {
            work.run();
            return;
        }
        Span span = tracer.nextSpan().name("request").start();
        try (Tracer.SpanInScope scope = tracer.withSpan(span)) {
            work.run();
        } finally {
            span.end();
        }
    }

    /** Spans exported so far, after flushing the processor's queue (0 without tracing). */
    private long spansExported() {
        if (provider != null) {
            provider.forceFlush().join(10, TimeUnit.SECONDS);
        }
        return exported.sum();
    }

    /**
     * Checks that the variant measured what it claims: every task counted as claimed by the metrics.
     *
     * @throws IllegalStateException when the metrics missed tasks
     */
    private void check(long tasks) {
        if (metrics == null) {
            return;
        }
        double claimed = meters.find("pgpubsub.tasks.claimed").counters().stream().mapToDouble(c -> c.count()).sum();
        if (claimed != tasks) {
            throw new IllegalStateException("the metrics counted " + claimed + " claimed tasks of " + tasks + " (" + mode.label + ")");
        }
    }

    @Override
    public void close() {
        if (provider != null) {
            provider.close();
        }
        if (meters != null) {
            meters.close();
        }
    }

    /** Work that may throw. */
    @FunctionalInterface
    interface Work {
        void run() throws Exception;
    }

    /** Counts the spans instead of sending them: the cost up to the network, none of the network's. */
    private static final class CountingExporter implements SpanExporter {
        private final LongAdder count;

        CountingExporter(LongAdder count) {
            this.count = count;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            count.add(spans.size());
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}
