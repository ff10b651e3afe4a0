package dev.pgpubsub.listener;

import java.util.Objects;

/**
 * How a listener is doing, in one word and one sentence, for health checks and readiness probes:
 * see {@link Listener#health()}.
 *
 * @param status whether it serves its channels: {@link Status#UP}, {@link Status#DEGRADED} or
 *               {@link Status#DOWN}
 * @param reason why, as a sentence for an operator, e.g. {@code listening on 3 channels with 4 workers}
 *               or {@code the LISTEN connection was lost at 2025-03-01T12:00:03Z and is being restored;
 *               the poll every 10s finds due tasks meanwhile}
 */
public record ListenerHealth(Status status, String reason) {

    /** Whether a listener serves its channels. */
    public enum Status {
        /** Serving: LISTENing (or polling, when configured to), with every worker running. */
        UP,
        /**
         * Serving, but not as configured: the LISTEN connection is lost (due tasks are found by the
         * poll), claims fail in an outage shorter than the outage limit, start-up recovery is draining
         * the backlog, or fewer workers run than configured. Handlers still run, or will again without
         * a restart.
         */
        DEGRADED,
        /**
         * Not serving: not started, still starting, stopping, closed, stopped by itself
         * ({@link Listener#failure()}), or in an outage longer than the outage limit.
         */
        DOWN
    }

    /**
     * A health.
     *
     * @param status the status
     * @param reason the sentence that explains it
     * @throws NullPointerException when either is null
     */
    public ListenerHealth {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reason, "reason");
    }
}
