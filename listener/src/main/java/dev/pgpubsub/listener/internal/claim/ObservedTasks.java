package dev.pgpubsub.listener.internal.claim;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;

/**
 * Each handler runs in an observation named {@value #NAME} through the Micrometer Observation API:
 * a consumer span whose parent is the publisher's span, when a tracer (OpenTelemetry or Brave,
 * through Micrometer Tracing) is bridged to the registry and the task carries a trace context.
 * Without one, the handler starts a trace of its own. The observation is current while the handler
 * runs, so that spans the handler's own code opens are its children, and the trace and span ids
 * are in the MDC ({@code traceId}, {@code spanId}, and {@code parentId} when there is a parent).
 */
public final class ObservedTasks implements TaskTracing {

    /** The observation's name (and, with a meter handler, its timer's). */
    public static final String NAME = "pgpubsub.process";

    private static final Logger LOG = LoggerFactory.getLogger(ObservedTasks.class);
    /** Reads a task's headers; prepared once, as resolving the type for each task would cost more than the read. */
    private static final ObjectReader HEADERS = JsonMapper.builder().build().readerFor(new TypeReference<Map<String, String>>() {
    });
    /** Whether Micrometer Tracing is at hand, to read the span's ids for the MDC. */
    private static final boolean TRACING = present("io.micrometer.tracing.handler.TracingObservationHandler");

    private final ObservationRegistry registry;

    private ObservedTasks(ObservationRegistry registry) {
        this.registry = registry;
    }

    /**
     * Tracing through {@code registry}; none when it is the no-op registry.
     *
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public static TaskTracing of(ObservationRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("The ObservationRegistry is null; leave it unset for no tracing");
        }
        return registry.isNoop() ? NONE : new ObservedTasks(registry);
    }

    @Override
    public Scope start(String channel, ClaimedTask task, TaskMdc mdc) {
        ReceiverContext<Map<String, String>> context = new ReceiverContext<>(
                (carrier, key) -> carrier == null ? null : carrier.get(key), Kind.CONSUMER);
        context.setCarrier(headers(task));
        context.setRemoteServiceName("pgpubsub");
        Observation observation = Observation.createNotStarted(NAME, () -> context, registry)
                .contextualName(channel + " process")
                .lowCardinalityKeyValue("channel", channel)
                .highCardinalityKeyValue("task.id", Long.toString(task.id()))
                .highCardinalityKeyValue("attempt", Integer.toString(task.attempt()))
                .start();
        Observation.Scope scope = observation.openScope();
        if (TRACING) {
            TraceIds.put(context, mdc);
        }
        return new Scope() {
            @Override
            public void failed(String error, Throwable cause) {
                observation.error(cause != null ? cause : new IllegalStateException(error));
            }

            @Override
            public void close() {
                mdc.close();
                scope.close();
                observation.stop();
            }
        };
    }

    /** The propagation headers the task was published with; none when it has none or they do not read. */
    private static Map<String, String> headers(ClaimedTask task) {
        if (task.traceContext() == null) {
            return Map.of();
        }
        try {
            Map<String, String> headers = HEADERS.readValue(task.traceContext());
            return headers == null ? Map.of() : headers;
        } catch (JacksonException | ClassCastException e) {
            LOG.debug("Task {}: its trace context does not read ({}); its handler starts a trace of its own", task.id(),
                    e.toString());
            return Map.of();
        }
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, ObservedTasks.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
