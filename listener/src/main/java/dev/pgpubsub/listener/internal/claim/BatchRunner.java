package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.listener.RowChange;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run transaction of a counted batch (step 2 of {@link ClaimStatements}): lock and delete the
 * rows, run their handlers, commit; on a failure, roll back, record it, and redo the other rows one
 * per transaction. Rows whose payload cannot be read go to the dead letters without a handler call.
 */
final class BatchRunner {

    private static final Logger LOG = LoggerFactory.getLogger(BatchRunner.class);

    /** Longest stored error text. */
    static final int MAX_ERROR_CHARS = 2_000;

    private final ClaimStatements statements;
    private final HandlerRegistry registry;
    private final Map<String, ChannelPolicy> policies;
    private final PayloadCodec codec;
    private final PayloadCodec rowCodec = PayloadCodec.forTableRows();
    private final int maxPayloadBytes;
    private final DueTimer timer;
    private final LongAdder batches = new LongAdder();
    private final LongAdder done = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();

    BatchRunner(ClaimStatements statements, HandlerRegistry registry, Map<String, ChannelPolicy> policies,
            PayloadCodec codec, int maxPayloadBytes, DueTimer timer) {
        this.statements = statements;
        this.registry = registry;
        this.policies = policies;
        this.codec = codec;
        this.maxPayloadBytes = maxPayloadBytes;
        this.timer = timer;
    }

    long batches() {
        return batches.sum();
    }

    long done() {
        return done.sum();
    }

    long failures() {
        return failures.sum();
    }

    long deadLettered() {
        return deadLettered.sum();
    }

    /** Counts a failure recorded elsewhere (a timeout, by the watchdog). */
    void countFailure() {
        failures.increment();
    }

    ChannelPolicy policy(String channel) {
        return policies.get(channel);
    }

    /** Counts tasks moved to the dead letters elsewhere (by the claim, or the watchdog). */
    void buried(String channel, List<Long> ids, String why) {
        if (!ids.isEmpty()) {
            deadLettered.add(ids.size());
            LOG.warn("{} task(s) of channel '{}' moved to the dead letters: {} (ids {})", ids.size(), channel, why,
                    ids.size() <= 10 ? ids : ids.subList(0, 10) + "...");
        }
    }

    /**
     * Runs a counted batch in one transaction. If a handler throws, the batch rolls back, the failure
     * is recorded, and every other row is redone in a transaction of its own, so that one bad row does
     * not fail its neighbours (and no savepoints are needed).
     *
     * @return how many tasks completed
     */
    int runBatch(Connection c, String channel, List<ClaimedTask> claimed, WorkerSlot slot) throws SQLException {
        batches.increment();
        RegisteredHandler handler = registry.get(channel);
        ChannelPolicy policy = policies.get(channel);
        long[] ids = ids(claimed);
        slot.batch(ids);
        Map<Long, LoadedTask> loaded = statements.lockAndDelete(c, ids, policy.handlerTimeout(), maxPayloadBytes);
        Connection guarded = GuardedConnection.wrap(c);
        ClaimedTask failed = null;
        Throwable error = null;
        int buried = 0;
        for (ClaimedTask task : claimed) {
            LoadedTask row = loaded.get(task.id());
            if (row == null) {
                continue; // another listener holds or finished it
            }
            try {
                if (!run(c, handler, policy, task, row, guarded, slot)) {
                    buried++;
                }
            } catch (WorkerSlot.Abandoned e) {
                throw e;
            } catch (Throwable t) {
                slot.checkNotAbandoned();
                failed = task;
                error = t;
                break;
            }
        }
        if (failed == null) {
            c.commit();
            slot.batch(null);
            done.add(loaded.size() - buried);
            return loaded.size() - buried;
        }
        c.rollback();
        slot.batch(null);
        recordFailure(c, channel, policy, failed, error);
        // The others are unlocked now, and redone one per transaction: renew their claim as it goes,
        // or a slow redo would let other workers count them again (charging attempts they never had).
        ClaimedTask culprit = failed;
        List<ClaimedTask> rest = claimed.stream().filter(t -> t != culprit && loaded.containsKey(t.id())).toList();
        Duration lease = ClaimStatements.CLAIM_LEASE;
        long renewedAt = 0;
        int completed = 0;
        for (int i = 0; i < rest.size(); i++) {
            if (System.nanoTime() - renewedAt > lease.toNanos() / 2) {
                statements.renew(c, ids(rest.subList(i, rest.size())), lease);
                renewedAt = System.nanoTime();
            }
            if (runOne(c, channel, handler, policy, rest.get(i), slot)) {
                completed++;
            }
        }
        return completed;
    }

    /** Runs one task in a transaction of its own; returns whether it completed. */
    private boolean runOne(Connection c, String channel, RegisteredHandler handler, ChannelPolicy policy, ClaimedTask task,
            WorkerSlot slot) throws SQLException {
        slot.batch(new long[] {task.id()});
        LoadedTask row = statements.lockAndDelete(c, new long[] {task.id()}, policy.handlerTimeout(), maxPayloadBytes)
                .get(task.id());
        if (row == null) {
            c.rollback();
            return false;
        }
        boolean ran;
        try {
            ran = run(c, handler, policy, task, row, GuardedConnection.wrap(c), slot);
        } catch (WorkerSlot.Abandoned e) {
            throw e;
        } catch (Throwable t) {
            slot.checkNotAbandoned();
            c.rollback();
            slot.batch(null);
            recordFailure(c, channel, policy, task, t);
            return false;
        }
        c.commit();
        slot.batch(null);
        if (ran) {
            done.increment();
        }
        return ran;
    }

    /**
     * Runs one loaded task's handler under the watchdog; returns false (after moving it to the dead
     * letters in this transaction) when it has no readable payload.
     */
    private boolean run(Connection c, RegisteredHandler handler, ChannelPolicy policy, ClaimedTask task, LoadedTask row,
            Connection guarded, WorkerSlot slot) throws Exception {
        if (row.payload() == null) {
            // Too large to load: lockAndDelete already moved it to the dead letters.
            buried(handler.channel(), List.of(task.id()), "payload larger than " + maxPayloadBytes + " bytes");
            return false;
        }
        Record payload;
        try {
            payload = read(handler, row);
        } catch (IllegalArgumentException e) {
            statements.buryLoaded(c, handler.channel(), row, task.attempt(), e.getMessage() == null
                    ? e.toString() : truncate(e.getMessage()));
            buried(handler.channel(), List.of(task.id()), e.getMessage());
            return false;
        }
        long timeout = policy.handlerTimeout().toMillis();
        slot.calling(new WorkerSlot.Call(task.id(), task.attempt(), handler.channel(),
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout), timeout));
        try {
            handler.handler().handle(payload, new RunningTask(task.id(), handler.channel(), task.attempt(),
                    row.publishedAt(), guarded));
        } finally {
            slot.calling(null);
        }
        slot.checkNotAbandoned();
        return true;
    }

    private Record read(RegisteredHandler handler, LoadedTask row) {
        Type type = handler.payloadType();
        boolean rowChange = type instanceof ParameterizedType p && p.getRawType() == RowChange.class;
        Record payload = (rowChange ? rowCodec : codec).read(handler.channel(), row.payload(), type);
        if (payload == null) {
            throw new IllegalArgumentException("A payload of channel '" + handler.channel() + "' is JSON null, not a "
                    + type.getTypeName());
        }
        return payload;
    }

    private void recordFailure(Connection c, String channel, ChannelPolicy policy, ClaimedTask task, Throwable error)
            throws SQLException {
        failures.increment();
        long retryIn = statements.recordFailure(c, task.id(), task.attempt(), describe(error), policy);
        if (retryIn == ClaimStatements.BURIED) {
            buried(channel, List.of(task.id()), "attempt " + task.attempt() + " of " + policy.maxAttempts() + " failed: "
                    + error);
        } else if (retryIn >= 0) {
            LOG.warn("Task {} on channel '{}' failed (attempt {} of {}); retrying in {} ms: {}", task.id(), channel,
                    task.attempt(), policy.maxAttempts(), retryIn, error.toString());
            timer.wakeIn(channel, retryIn);
        }
    }

    /** The error and its causes, at most {@value #MAX_ERROR_CHARS} characters. */
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(error.toString());
        for (Throwable cause = error.getCause(); cause != null && text.length() < MAX_ERROR_CHARS; cause = cause.getCause()) {
            text.append("; caused by ").append(cause);
        }
        return truncate(text.toString());
    }

    private static String truncate(String text) {
        return text.length() > MAX_ERROR_CHARS ? text.substring(0, MAX_ERROR_CHARS) : text;
    }

    static long[] ids(List<ClaimedTask> claimed) {
        long[] ids = new long[claimed.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = claimed.get(i).id();
        }
        return ids;
    }
}
