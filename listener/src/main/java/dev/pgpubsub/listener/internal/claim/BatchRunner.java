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
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run transaction of a counted batch (step 2 of {@link ClaimStatements}): lock and delete the
 * rows, run their handlers, commit; on a failure, roll back, record it, and redo the other rows one
 * per transaction.
 */
final class BatchRunner {

    private static final Logger LOG = LoggerFactory.getLogger(BatchRunner.class);

    /** Longest stored error text. */
    static final int MAX_ERROR_CHARS = 2_000;

    private final ClaimStatements statements;
    private final HandlerRegistry registry;
    private final PayloadCodec codec;
    private final PayloadCodec rowCodec = PayloadCodec.forTableRows();
    private final Backoff backoff;
    private final DueTimer timer;
    private final LongAdder batches = new LongAdder();
    private final LongAdder done = new LongAdder();
    private final LongAdder failures = new LongAdder();

    BatchRunner(ClaimStatements statements, HandlerRegistry registry, PayloadCodec codec, Backoff backoff, DueTimer timer) {
        this.statements = statements;
        this.registry = registry;
        this.codec = codec;
        this.backoff = backoff;
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

    /**
     * Runs a counted batch in one transaction. If a handler throws, the batch rolls back, the failure
     * is recorded, and every other row is redone in a transaction of its own, so that one bad row does
     * not fail its neighbours (and no savepoints are needed).
     *
     * @return how many tasks completed
     */
    int runBatch(Connection c, String channel, List<ClaimedTask> claimed) throws SQLException {
        batches.increment();
        RegisteredHandler handler = registry.get(channel);
        Map<Long, LoadedTask> loaded = statements.lockAndDelete(c, ids(claimed));
        TransactionView view = new TransactionView(c);
        ClaimedTask failed = null;
        Throwable error = null;
        for (ClaimedTask task : claimed) {
            LoadedTask row = loaded.get(task.id());
            if (row == null) {
                continue; // another listener holds or finished it
            }
            try {
                invoke(handler, task, row, view);
            } catch (Throwable t) {
                failed = task;
                error = t;
                break;
            }
        }
        if (failed == null) {
            c.commit();
            done.add(loaded.size());
            return loaded.size();
        }
        c.rollback();
        recordFailure(c, channel, failed, error);
        int completed = 0;
        for (ClaimedTask task : claimed) {
            if (task != failed && loaded.containsKey(task.id()) && runOne(c, channel, handler, task)) {
                completed++;
            }
        }
        return completed;
    }

    /** Runs one task in a transaction of its own; returns whether it completed. */
    private boolean runOne(Connection c, String channel, RegisteredHandler handler, ClaimedTask task) throws SQLException {
        LoadedTask row = statements.lockAndDelete(c, new long[] {task.id()}).get(task.id());
        if (row == null) {
            c.rollback();
            return false;
        }
        try {
            invoke(handler, task, row, new TransactionView(c));
        } catch (Throwable t) {
            c.rollback();
            recordFailure(c, channel, task, t);
            return false;
        }
        c.commit();
        done.increment();
        return true;
    }

    private void invoke(RegisteredHandler handler, ClaimedTask task, LoadedTask row, TransactionView view) throws Exception {
        Type type = handler.payloadType();
        boolean rowChange = type instanceof ParameterizedType p && p.getRawType() == RowChange.class;
        Record payload = (rowChange ? rowCodec : codec).read(handler.channel(), row.payload(), type);
        handler.handler().handle(payload, new RunningTask(task.id(), handler.channel(), task.attempt(), row.publishedAt(),
                view.connection(), view));
    }

    private void recordFailure(Connection c, String channel, ClaimedTask task, Throwable error) throws SQLException {
        failures.increment();
        Duration retryIn = backoff.after(task.attempt());
        LOG.warn("Task {} on channel '{}' failed (attempt {}); retrying in {}: {}", task.id(), channel, task.attempt(),
                retryIn, error.toString());
        statements.recordFailure(c, task.id(), describe(error), backoff);
        timer.wakeIn(channel, retryIn.toMillis());
    }

    private static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(error.toString());
        for (Throwable cause = error.getCause(); cause != null && text.length() < MAX_ERROR_CHARS; cause = cause.getCause()) {
            text.append("; caused by ").append(cause);
        }
        return text.length() > MAX_ERROR_CHARS ? text.substring(0, MAX_ERROR_CHARS) : text.toString();
    }

    static long[] ids(List<ClaimedTask> claimed) {
        long[] ids = new long[claimed.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = claimed.get(i).id();
        }
        return ids;
    }
}
