package dev.pgpubsub.listener.internal;

import dev.pgpubsub.listener.ListenerHealth;
import dev.pgpubsub.listener.ListenerHealth.Status;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns what a listener knows about itself into a {@link ListenerHealth}: the rules of
 * {@code Listener.health()} in one place, apart from the runtime, so that each can be tested with a
 * fixed clock. Pure: it reads its arguments and nothing else.
 *
 * @param workers       workers configured
 * @param channels      channels served
 * @param pollOnly      whether the listener polls instead of LISTENing, by configuration
 * @param pollInterval  the safety-net poll interval
 * @param outageLimit   how long the database may stay unusable before the listener gives up
 * @param shutdownGrace how long a close lets running handlers finish
 */
record HealthRules(int workers, int channels, boolean pollOnly, Duration pollInterval, Duration outageLimit,
        Duration shutdownGrace) {

    /** Where a listener is in its life. */
    enum Phase {
        /** Built, {@code start()} not called. */
        NEW,
        /** {@code start()} is connecting and checking (and waits while the database is unreachable). */
        STARTING,
        /** Started: claiming (or recovering first). */
        SERVING,
        /** Stopped by itself, or its start failed: the stop reason says which. */
        FAILED,
        /** {@code close()} is letting running handlers finish. */
        STOPPING,
        /** Closed. */
        CLOSED
    }

    /**
     * What the runtime knows at one moment.
     *
     * @param phase              where the listener is in its life
     * @param startedAt          when {@code start()} was called; null before
     * @param startProblem       the last reason start-up had to try again (the database unreachable), or null
     * @param stopReason         for {@link Phase#FAILED}: why it stopped, as a sentence
     * @param listenLostSince    when the LISTEN connection was lost, while it is being restored; else null
     * @param claimsFailingSince when claims began to fail with no success since; else null
     * @param recovering         whether start-up recovery is draining the backlog
     * @param liveWorkers        workers running now
     * @param abandonedThreads   threads of timed-out handlers still running
     */
    record Facts(Phase phase, Instant startedAt, String startProblem, String stopReason, Instant listenLostSince,
            Instant claimsFailingSince, boolean recovering, int liveWorkers, long abandonedThreads) {
    }

    ListenerHealth judge(Facts facts, Instant now) {
        return switch (facts.phase()) {
            case NEW -> down("not started");
            case STARTING -> down("starting since " + time(facts.startedAt()) + (facts.startProblem() == null ? ""
                    : "; the database is unreachable (" + facts.startProblem() + "), trying again for at most "
                    + Durations.describe(outageLimit) + " in all"));
            case FAILED -> down(facts.stopReason());
            case STOPPING -> down("stopping: running handlers have " + Durations.describe(shutdownGrace) + " to finish");
            case CLOSED -> down("closed");
            case SERVING -> serving(facts, now);
        };
    }

    private ListenerHealth serving(Facts facts, Instant now) {
        Instant outage = earliest(facts.listenLostSince(), facts.claimsFailingSince());
        if (outage != null && Duration.between(outage, now).compareTo(outageLimit) > 0) {
            return down("the database has been unusable since " + time(outage) + ", for longer than the outage limit of "
                    + Durations.describe(outageLimit) + "; the listener is stopping");
        }
        List<String> problems = new ArrayList<>();
        if (facts.claimsFailingSince() != null) {
            problems.add("claims have failed since " + time(facts.claimsFailingSince()) + " (for "
                    + elapsed(facts.claimsFailingSince(), now) + "; the listener stops once that lasts longer than "
                    + Durations.describe(outageLimit) + ")");
        }
        if (facts.listenLostSince() != null) {
            problems.add("the LISTEN connection was lost at " + time(facts.listenLostSince()) + " and is being restored; "
                    + "the poll every " + Durations.describe(pollInterval) + " finds due tasks meanwhile");
        }
        if (facts.recovering()) {
            problems.add("start-up recovery is draining the backlog");
        } else if (facts.liveWorkers() < workers) {
            problems.add(facts.liveWorkers() + " of " + workers + " workers are running ("
                    + facts.abandonedThreads() + " handler thread(s) abandoned after their timeout)");
        }
        if (!problems.isEmpty()) {
            return new ListenerHealth(Status.DEGRADED, String.join("; ", problems));
        }
        String served = channels + (channels == 1 ? " channel" : " channels") + " with " + workers
                + (workers == 1 ? " worker" : " workers");
        return new ListenerHealth(Status.UP, pollOnly
                ? "polling " + served + " every " + Durations.describe(pollInterval) + " (poll only, by configuration)"
                : "listening on " + served);
    }

    /**
     * The stop reason of a listener that gave up.
     *
     * @param outageSince when the outage that made it give up began, or null (no worker left)
     * @param cause       what it gave up on
     * @param now         when
     * @return the sentence
     */
    String stopped(Instant outageSince, Throwable cause, Instant now) {
        String message = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getName();
        if (outageSince == null) {
            return "stopped by itself at " + time(now) + ": " + message;
        }
        return "stopped by itself at " + time(now) + ": the database was unusable from " + time(outageSince)
                + ", for longer than the outage limit of " + Durations.describe(outageLimit) + " (" + message + ")";
    }

    private static ListenerHealth down(String reason) {
        return new ListenerHealth(Status.DOWN, reason);
    }

    private static String time(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static String elapsed(Instant since, Instant now) {
        Duration d = Duration.between(since, now);
        return Durations.describe(Duration.ofSeconds(Math.max(0, d.toSeconds())));
    }

    static Instant earliest(Instant a, Instant b) {
        return a == null ? b : b == null || a.isBefore(b) ? a : b;
    }
}
