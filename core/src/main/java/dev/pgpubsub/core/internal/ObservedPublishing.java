package dev.pgpubsub.core.internal;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.SenderContext;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Each publish runs in an observation named {@value #NAME} (a producer span, a child of the
 * current one), through the Micrometer Observation API: any tracer bridged to it (OpenTelemetry,
 * Brave) injects its propagation headers (W3C {@code traceparent}, {@code tracestate}, or
 * {@code b3}) into a map, which the tasks carry in their {@code trace_context} column. Without a
 * tracing handler in the registry the map stays empty and the tasks carry nothing.
 */
public final class ObservedPublishing implements PublishTracing {

    /** The observation's name (and, with a meter handler, its timer's). */
    public static final String NAME = "pgpubsub.publish";

    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private final ObservationRegistry registry;

    private ObservedPublishing(ObservationRegistry registry) {
        this.registry = registry;
    }

    /**
     * Tracing through {@code registry}; none when it is the no-op registry.
     *
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public static PublishTracing of(ObservationRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("The ObservationRegistry is null; leave it unset for no tracing");
        }
        return registry.isNoop() ? NONE : new ObservedPublishing(registry);
    }

    @Override
    public Span start(String channel, int tasks) {
        Map<String, String> headers = new LinkedHashMap<>(4);
        SenderContext<Map<String, String>> context = new SenderContext<>((carrier, key, value) -> {
            if (carrier != null && key != null && value != null) {
                carrier.put(key, value);
            }
        }, Kind.PRODUCER);
        context.setCarrier(headers);
        context.setRemoteServiceName("pgpubsub");
        Observation observation = Observation.createNotStarted(NAME, () -> context, registry)
                .contextualName(channel + " publish")
                .lowCardinalityKeyValue("channel", channel)
                .highCardinalityKeyValue("tasks", Integer.toString(tasks))
                .start();
        String json = headers.isEmpty() ? null : JSON.writeValueAsString(headers);
        return new Span() {
            @Override
            public String headers() {
                return json;
            }

            @Override
            public void failed(Throwable error) {
                observation.error(error);
            }

            @Override
            public void end() {
                observation.stop();
            }
        };
    }
}
