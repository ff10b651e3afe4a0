package dev.pgpubsub.spring;

import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerHealth;
import dev.pgpubsub.listener.ListenerStats;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of the pgpubsub listener (Actuator's {@code pgPubSub} component), from
 * {@link Listener#health()}: UP when that is UP or DEGRADED (the LISTEN connection lost, an outage
 * shorter than the outage limit, recovery running, a worker short: it still serves, or will again by
 * itself, so a probe must not take the application out for it); DOWN when that is DOWN (an outage
 * past the limit) or the listener stopped by itself ({@link Listener#failure()}); OUT_OF_SERVICE
 * while it starts, before, while it stops and after. Details: {@code listenerHealth} ({@code UP},
 * {@code DEGRADED} or {@code DOWN}) and its {@code reason}, the lifecycle state, channels, handler
 * beans, workers, the LISTEN connection ({@code connected}, {@code reconnecting} or
 * {@code poll-only}) and the counters of its stats. It never blocks: it reads the listener's state
 * and counters, and asks the database nothing.
 */
final class PgPubSubHealthIndicator implements HealthIndicator {

    private final ListenerLifecycle lifecycle;
    private final PgPubSubProperties properties;

    PgPubSubHealthIndicator(ListenerLifecycle lifecycle, PgPubSubProperties properties) {
        this.lifecycle = lifecycle;
        this.properties = properties;
    }

    @Override
    public Health health() {
        Optional<Listener> found = lifecycle.listener();
        if (found.isEmpty()) {
            return Health.up().withDetail("listener", "none: no bean has @Listen methods").build();
        }
        Listener listener = found.get();
        ListenerLifecycle.State state = lifecycle.state();
        Optional<Throwable> failure = listener.failure();
        if (failure.isPresent()) {
            return Health.down(failure.get())
                    .withDetail("reason", "the listener stopped by itself and runs no handlers until the application "
                            + "restarts: " + message(failure.get()))
                    .withDetails(details(listener, state, listener.stats()))
                    .build();
        }
        if (state != ListenerLifecycle.State.RUNNING) {
            return Health.outOfService().withDetails(details(listener, state, null)).build();
        }
        ListenerHealth health = listener.health();
        // DEGRADED is UP with a detail: Actuator maps a status of its own to 200 and orders it only when
        // told to, and readiness must not flap while the listener rides out a lost connection.
        Health.Builder builder = health.status() == ListenerHealth.Status.DOWN ? Health.down() : Health.up();
        return builder.withDetail("listenerHealth", health.status().name())
                .withDetail("reason", health.reason())
                .withDetails(details(listener, state, listener.stats()))
                .build();
    }

    private Map<String, Object> details(Listener listener, ListenerLifecycle.State state, ListenerStats stats) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("state", state.name().toLowerCase(Locale.ROOT).replace('_', ' '));
        details.put("channels", listener.channels());
        details.put("handlerBeans", lifecycle.handlerBeans());
        details.put("workers", properties.getListener().getWorkers());
        if (stats != null) {
            details.put("listen", properties.getListener().isPollOnly() ? "poll-only"
                    : stats.listening() ? "connected" : "reconnecting");
            if (stats.outageSince() != null) {
                details.put("outageSince", stats.outageSince().toString());
            }
            details.put("tasksDone", stats.tasksDone());
            details.put("tasksFailed", stats.tasksFailed());
            details.put("deadLettered", stats.deadLettered());
            details.put("handlerTimeouts", stats.handlerTimeouts());
            details.put("abandonedThreads", stats.abandonedThreads());
            details.put("recovering", stats.recovering());
        }
        return details;
    }

    private static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    }
}
