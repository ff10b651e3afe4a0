package dev.pgpubsub.listener.internal.claim;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>What the registry's handlers throw is logged (the first time as a warning) and never reaches
 * the claim: a tracing bug must not fail a batch. Whether the registry has handlers is asked for
 * each task, so that handlers added after the listener was built count.
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
    private final AtomicBoolean warned = new AtomicBoolean();

    private ObservedTasks(ObservationRegistry registry) {
        this.registry = registry;
    }

    /**
     * Tracing through {@code registry}; none when it is {@link ObservationRegistry#NOOP}.
     *
     * @throws IllegalArgumentException when {@code registry} is null
     */
    public static TaskTracing of(ObservationRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("The ObservationRegistry is null; leave it unset for no tracing");
        }
        return registry == ObservationRegistry.NOOP ? NONE : new ObservedTasks(registry);
    }

    @Override
    public Scope start(String channel, ClaimedTask task, TaskMdc mdc) {
        Observation observation;
        try {
            observation = Observation.createNotStarted(NAME, () -> context(task), registry);
            if (observation.isNoop()) {
                return Scope.NONE; // no handler in the registry (yet): nothing to read or open
            }
            observation.contextualName(channel + " process")
                    .lowCardinalityKeyValue("channel", channel)
                    .highCardinalityKeyValue("task.id", Long.toString(task.id()))
                    .highCardinalityKeyValue("attempt", Integer.toString(task.attempt()))
                    .start();
        } catch (RuntimeException | LinkageError e) {
            threw(e);
            return Scope.NONE;
        }
        Observation.Scope scope;
        Observation.Scope before = registry.getCurrentObservationScope();
        try {
            scope = observation.openScope();
        } catch (RuntimeException | LinkageError e) {
            threw(e);
            // The scope may be current already, its handlers having thrown after: the thread is reused.
            registry.setCurrentObservationScope(before);
            stop(observation);
            return Scope.NONE;
        }
        if (TRACING) {
            try {
                TraceIds.put(observation.getContext(), mdc);
            } catch (RuntimeException | LinkageError e) {
                threw(e);
            }
        }
        return new Scope() {
            @Override
            public void failed(String error, Throwable cause) {
                try {
                    observation.error(cause != null ? cause : new IllegalStateException(error));
                } catch (RuntimeException | LinkageError e) {
                    threw(e);
                }
            }

            @Override
            public void close() {
                try {
                    mdc.close();
                } finally {
                    try {
                        scope.close();
                    } catch (RuntimeException | LinkageError e) {
                        threw(e);
                    } finally {
                        stop(observation);
                    }
                }
            }
        };
    }

    private static ReceiverContext<Map<String, String>> context(ClaimedTask task) {
        ReceiverContext<Map<String, String>> context = new ReceiverContext<>(
                (carrier, key) -> carrier == null ? null : carrier.get(key), Kind.CONSUMER);
        context.setCarrier(headers(task));
        context.setRemoteServiceName("pgpubsub");
        return context;
    }

    private void stop(Observation observation) {
        try {
            observation.stop();
        } catch (RuntimeException | LinkageError e) {
            threw(e);
        }
    }

    private void threw(Throwable e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("The tracing of handlers threw ({}); the task is handled all the same, possibly outside its "
                    + "trace. Later failures are logged at DEBUG", e.toString(), e);
        } else {
            LOG.debug("The tracing of handlers threw again", e);
        }
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
