package dev.pgpubsub.listener.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.listener.ListenerHealth;
import dev.pgpubsub.listener.ListenerHealth.Status;
import dev.pgpubsub.listener.internal.HealthRules.Facts;
import dev.pgpubsub.listener.internal.HealthRules.Phase;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The rules of {@code Listener.health()}, at a fixed time: the thresholds and the sentences. */
class HealthRulesTest {

    private static final Instant NOW = Instant.parse("2025-03-01T12:00:00.250Z");
    private static final HealthRules RULES = new HealthRules(4, 3, false, Duration.ofSeconds(10), Duration.ofMinutes(1),
            Duration.ofSeconds(30));

    private static Facts serving(Instant listenLost, Instant claimsFailing, boolean recovering, int liveWorkers) {
        return new Facts(Phase.SERVING, NOW.minusSeconds(600), null, null, listenLost, claimsFailing, recovering,
                liveWorkers, 4 - liveWorkers);
    }

    @Test
    void upWhenListeningWithEveryWorker() {
        assertThat(RULES.judge(serving(null, null, false, 4), NOW))
                .isEqualTo(new ListenerHealth(Status.UP, "listening on 3 channels with 4 workers"));
        HealthRules polling = new HealthRules(1, 1, true, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30));
        assertThat(polling.judge(new Facts(Phase.SERVING, NOW, null, null, null, null, false, 1, 0), NOW)).isEqualTo(
                new ListenerHealth(Status.UP, "polling 1 channel with 1 worker every 1s (poll only, by configuration)"));
    }

    @Test
    void degradedInAnOutageUpToTheLimitAndDownPastIt() {
        ListenerHealth lost = RULES.judge(serving(NOW.minusSeconds(60), null, false, 4), NOW);
        assertThat(lost).isEqualTo(new ListenerHealth(Status.DEGRADED, "the LISTEN connection was lost at "
                + "2025-03-01T11:59:00Z and is being restored; the poll every 10s finds due tasks meanwhile"));
        ListenerHealth failing = RULES.judge(serving(null, NOW.minusSeconds(45), false, 4), NOW);
        assertThat(failing).isEqualTo(new ListenerHealth(Status.DEGRADED, "claims have failed since 2025-03-01T11:59:15Z "
                + "(for 45s; the listener stops once that lasts longer than 1m)"));

        ListenerHealth past = RULES.judge(serving(NOW.minusSeconds(61), NOW.minusSeconds(30), false, 4), NOW);
        assertThat(past).isEqualTo(new ListenerHealth(Status.DOWN, "the database has been unusable since "
                + "2025-03-01T11:58:59Z, for longer than the outage limit of 1m; the listener is stopping"));
    }

    @Test
    void degradedWhileRecoveringOrShortOfWorkersWithEveryProblemNamed() {
        assertThat(RULES.judge(serving(null, null, true, 0), NOW))
                .isEqualTo(new ListenerHealth(Status.DEGRADED, "start-up recovery is draining the backlog"));
        assertThat(RULES.judge(serving(null, null, false, 3), NOW)).isEqualTo(new ListenerHealth(Status.DEGRADED,
                "3 of 4 workers are running (1 handler thread(s) abandoned after their timeout)"));
        assertThat(RULES.judge(serving(NOW.minusSeconds(5), null, false, 2), NOW).reason())
                .startsWith("the LISTEN connection was lost").contains("; 2 of 4 workers are running");
    }

    @Test
    void downBeforeWhileStartingWhileStoppingAfterAndOnceFailed() {
        assertThat(judge(Phase.NEW, null, null)).isEqualTo(new ListenerHealth(Status.DOWN, "not started"));
        assertThat(judge(Phase.STARTING, null, null).reason()).isEqualTo("starting since 2025-03-01T12:00:00Z");
        assertThat(judge(Phase.STARTING, "Connection refused", null).reason()).isEqualTo("starting since "
                + "2025-03-01T12:00:00Z; the database is unreachable (Connection refused), trying again for at most 1m in all");
        assertThat(judge(Phase.STOPPING, null, null))
                .isEqualTo(new ListenerHealth(Status.DOWN, "stopping: running handlers have 30s to finish"));
        assertThat(judge(Phase.CLOSED, null, null)).isEqualTo(new ListenerHealth(Status.DOWN, "closed"));
        String stopped = RULES.stopped(NOW.minusSeconds(70), new SQLException("Connection refused"), NOW);
        assertThat(stopped).isEqualTo("stopped by itself at 2025-03-01T12:00:00Z: the database was unusable from "
                + "2025-03-01T11:58:50Z, for longer than the outage limit of 1m (Connection refused)");
        assertThat(judge(Phase.FAILED, null, stopped)).isEqualTo(new ListenerHealth(Status.DOWN, stopped));
        assertThat(RULES.stopped(null, new IllegalStateException("no worker is left to claim tasks"), NOW))
                .isEqualTo("stopped by itself at 2025-03-01T12:00:00Z: no worker is left to claim tasks");
    }

    private static ListenerHealth judge(Phase phase, String startProblem, String stopReason) {
        return RULES.judge(new Facts(phase, NOW, startProblem, stopReason, null, null, false, 0, 0), NOW);
    }
}
