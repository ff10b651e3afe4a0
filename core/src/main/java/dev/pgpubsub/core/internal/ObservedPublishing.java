package dev.pgpubsub.core.internal;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.SenderContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Each publish runs in an observation named {@value #NAME} (a producer span, a child of the
 * current one), through the Micrometer Observation API: any tracer bridged to it (OpenTelemetry,
 * Brave) injects its propagation headers (W3C {@code traceparent}, {@code tracestate}, or
 * {@code b3}) into a map, which the tasks carry in their {@code trace_context} column. Without a
 * tracing handler in the registry the map stays empty and the tasks carry nothing.
 *
 * <p>What the registry's handlers throw is logged (the first time as a warning) and never fails the
 * publish. Whether the registry has handlers is asked at each publish, so that handlers added after
 * the publisher was built count.
 */
public final class ObservedPublishing implements PublishTracing {

    /** The observation's name (and, with a meter handler, its timer's). */
    public static final String NAME = "pgpubsub.publish";

    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private static final Logger LOG = LoggerFactory.getLogger(ObservedPublishing.class);

    private final ObservationRegistry registry;
    private final AtomicBoolean warned = new AtomicBoolean();

    private ObservedPublishing(ObservationRegistry registry) {
        this.registry = registry;
    }

    /**
     * Tracing through {@code registry}; none when it is {@link ObservationRegistry#NOOP}.
     *
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public static PublishTracing of(ObservationRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("The ObservationRegistry is null; leave it unset for no tracing");
        }
        return registry == ObservationRegistry.NOOP ? NONE : new ObservedPublishing(registry);
    }

    @Override
    public Span start(String channel, int tasks) {
        Map<String, String> headers = new LinkedHashMap<>(4);
        Observation observation;
        String json;
        try {
            observation = Observation.createNotStarted(NAME, () -> context(headers), registry);
            if (observation.isNoop()) {
                return Span.NONE; // no handler in the registry (yet)
            }
            observation.contextualName(channel + " publish")
                    .lowCardinalityKeyValue("channel", channel)
                    .highCardinalityKeyValue("tasks", Integer.toString(tasks))
                    .start();
            json = headers.isEmpty() ? null : JSON.writeValueAsString(headers);
        } catch (RuntimeException | LinkageError e) {
            threw(e);
            return Span.NONE;
        }
        return new Span() {
            @Override
            public String headers() {
                return json;
            }

            @Override
            public void failed(Throwable error) {
                try {
                    observation.error(error);
                } catch (RuntimeException | LinkageError e) {
                    threw(e);
                }
            }

            @Override
            public void end() {
                try {
                    observation.stop();
                } catch (RuntimeException | LinkageError e) {
                    threw(e);
                }
            }
        };
    }

    private static SenderContext<Map<String, String>> context(Map<String, String> headers) {
        SenderContext<Map<String, String>> context = new SenderContext<>((carrier, key, value) -> {
            if (carrier != null && key != null && value != null) {
                carrier.put(key, value);
            }
        }, Kind.PRODUCER);
        context.setCarrier(headers);
        context.setRemoteServiceName("pgpubsub");
        return context;
    }

    private void threw(Throwable e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("The tracing of publishing threw ({}); the tasks are published all the same, possibly without "
                    + "their trace context. Later failures are logged at DEBUG", e.toString(), e);
        } else {
            LOG.debug("The tracing of publishing threw again", e);
        }
    }
}
