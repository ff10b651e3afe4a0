package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.core.internal.Printable;
import dev.pgpubsub.listener.ClaimTransactions;
import dev.pgpubsub.listener.RowChange;
import dev.pgpubsub.listener.internal.dispatch.HandlerRegistry;
import dev.pgpubsub.listener.internal.dispatch.RegisteredHandler;
import dev.pgpubsub.listener.internal.guard.TransactionGuard;
import dev.pgpubsub.listener.internal.guard.TransactionState;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim transaction: claim a batch ({@link ClaimStatements}), run each task's handler on the
 * same connection, guarded, commit. A task fails if its handler throws, or returns having left the
 * transaction aborted or ended, or unfit to commit by its owner's check
 * ({@link ClaimTransactions#afterHandler()}); then the transaction is released (noted, so that the other tasks
 * are not charged) and rolled back, and the batch is done again in parts: the failed task alone
 * (which charges it), the tasks before it (which ran once already), the tasks after it. So every
 * task that does not fail runs at most twice (unless its part fails again), and the batch costs
 * three more transactions.
 */
final class BatchRunner {

    private static final Logger LOG = LoggerFactory.getLogger(BatchRunner.class);

    /** Longest stored error text. */
    static final int MAX_ERROR_CHARS = 2_000;

    /**
     * Bounds on what one batch may load and how long the library's own statements may take.
     *
     * @param maxPayloadBytes   larger payloads go to the dead letters unread
     * @param maxBatchBytes     payload bytes one claim loads at most (but always its first row)
     * @param statementTimeout  how long one of the library's statements may run
     */
    record Limits(int maxPayloadBytes, long maxBatchBytes, java.time.Duration statementTimeout) {
    }

    /** The outcome of one claim transaction. */
    private record Outcome(int found, int done, Failure failure) {
    }

    /** A task failed: its claim was released and rolled back; what to do again. */
    private record Failure(long xid, long[] culprit, long[] before, long[] after) {
    }

    /** Signals, from inside the transaction, that it must roll back after a task failed. */
    private static final class Released extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Failure failure;

        Released(Failure failure) {
            super(null, null, false, false);
            this.failure = failure;
        }
    }

    /** What one claim transaction found and did, as it goes. */
    private static final class Tally {
        int found;
        int done;
        int retried;
        int buried;
    }

    /** Claims rows, given a connection and a watch: by channel, or by ids. */
    @FunctionalInterface
    private interface Claimer {
        ClaimStatements.Claim claim(Connection c, ClaimStatements.Watch watch) throws SQLException;
    }

    private final ClaimStatements statements;
    private final ClaimTransactions transactions;
    private final Bookkeeper bookkeeper;
    private final HandlerRegistry registry;
    private final Map<String, ChannelPolicy> policies;
    private final PayloadCodec codec;
    private final PayloadCodec rowCodec = PayloadCodec.forTableRows();
    private final Limits limits;
    private final DueTimer timer;
    private final ClaimMetrics metrics;
    private final TaskTracing tracing;

    BatchRunner(ClaimStatements statements, ClaimTransactions transactions, Bookkeeper bookkeeper, HandlerRegistry registry,
            Map<String, ChannelPolicy> policies, PayloadCodec codec, Limits limits, DueTimer timer, ClaimMetrics metrics,
            TaskTracing tracing) {
        this.statements = statements;
        this.transactions = transactions;
        this.bookkeeper = bookkeeper;
        this.registry = registry;
        this.policies = policies;
        this.codec = codec;
        this.limits = limits;
        this.timer = timer;
        this.metrics = metrics;
        this.tracing = tracing;
    }

    ChannelPolicy policy(String channel) {
        return policies.get(channel);
    }

    /**
     * Claims and runs up to {@code limit} due rows of {@code channel}, and whatever a failure among
     * them makes necessary.
     *
     * @return how many rows the first claim took: fewer than {@code limit} when the channel is drained
     */
    int runDue(WorkerSlot slot, String channel, int limit) throws Exception {
        ChannelPolicy policy = policies.get(channel);
        Outcome first = once(slot, channel, limit, (c, w) ->
                statements.claimDue(c, w, channel, limit, limits.maxBatchBytes(), policy, limits.maxPayloadBytes()));
        if (first.failure() != null) {
            again(slot, channel, first.failure());
        }
        return first.found();
    }

    /**
     * Claims and runs the rows among {@code ids} that are due and not held elsewhere (start-up
     * recovery's chunks), within the byte budget per transaction.
     *
     * @return how many tasks completed
     */
    long runIds(WorkerSlot slot, String channel, long[] ids) throws Exception {
        Deque<long[]> groups = new ArrayDeque<>();
        groups.add(ids);
        return runGroups(slot, channel, groups);
    }

    private void again(WorkerSlot slot, String channel, Failure failure) throws Exception {
        Deque<long[]> groups = new ArrayDeque<>();
        follow(groups, failure);
        runGroups(slot, channel, groups);
    }

    private static void follow(Deque<long[]> groups, Failure failure) {
        // Front of the queue, in this order: the failed task (its claim charges it), then the tasks
        // before it, then those after it.
        if (failure.after().length > 0) {
            groups.addFirst(failure.after());
        }
        if (failure.before().length > 0) {
            groups.addFirst(failure.before());
        }
        groups.addFirst(failure.culprit());
    }

    private long runGroups(WorkerSlot slot, String channel, Deque<long[]> groups) throws Exception {
        ChannelPolicy policy = policies.get(channel);
        long done = 0;
        while (!groups.isEmpty()) {
            long[] ids = groups.pollFirst();
            List<Long> taken = new ArrayList<>();
            Outcome outcome = once(slot, channel, ids.length, (c, w) -> {
                ClaimStatements.Claim claim = statements.claimByIds(c, w, channel, ids, limits.maxBatchBytes(), policy,
                        limits.maxPayloadBytes());
                claim.run().forEach(t -> taken.add(t.id()));
                taken.addAll(claim.retried());
                taken.addAll(claim.buried());
                return claim;
            });
            done += outcome.done();
            if (outcome.failure() != null) {
                follow(groups, outcome.failure());
            } else if (outcome.found() > 0 && taken.size() < ids.length) {
                // The byte budget cut it short: the rest is next.
                long[] rest = Arrays.stream(ids).filter(id -> !taken.contains(id)).toArray();
                groups.addFirst(rest);
            }
        }
        return done;
    }

    /**
     * Milliseconds until the channel's earliest row is due (0 if one is due already), or -1 if it has
     * none; on the slot, under the watchdog.
     */
    long nextDue(WorkerSlot slot, String channel) throws Exception {
        return watched(slot, (c, watch) -> statements.millisUntilNextDue(c, watch, channel));
    }

    /** Work in a transaction whose statements, commit and rollback the watchdog bounds. */
    @FunctionalInterface
    private interface Watched<T> {
        T run(Connection c, ClaimStatements.Watch watch) throws Exception;
    }

    private <T> T watched(WorkerSlot slot, Watched<T> work) throws Exception {
        long statementNanos = limits.statementTimeout().toNanos();
        ClaimStatements.Watch watch = new ClaimStatements.Watch() {
            @Override
            public void running(java.sql.Statement s) {
                slot.library(s, statementNanos);
            }

            @Override
            public void done() {
                slot.libraryDone();
            }
        };
        slot.connecting();
        try {
            return transactions.inTransaction(c -> {
                slot.use(c);
                try {
                    T result = work.run(c, watch);
                    slot.library(null, statementNanos); // the commit
                    return result;
                } catch (Throwable t) {
                    slot.library(null, statementNanos); // the rollback
                    throw t;
                }
            });
        } finally {
            slot.libraryDone();
            slot.use(null);
        }
    }

    /** One claim transaction, which locks at most {@code mostRows} rows (0: no limit). */
    private Outcome once(WorkerSlot slot, String channel, int mostRows, Claimer claimer) throws Exception {
        RegisteredHandler handler = registry.get(channel);
        ChannelPolicy policy = policies.get(channel);
        Tally tally = new Tally();
        try {
            watched(slot, (c, watch) -> {
                ClaimStatements.Claim claim = claimer.claim(c, watch);
                tally.found = claim.size();
                tally.retried = claim.retried().size();
                tally.buried = claim.buried().size();
                if (!claim.run().isEmpty()) {
                    metrics.batches.increment();
                    metrics.observer.claimed(channel, claim.run().size());
                    slot.holding(claim.xid(), ids(claim.run()));
                    runTasks(c, slot, watch, handler, policy, claim, mostRows != 1, tally);
                }
                return null;
            });
            // Committed: count now (a rolled-back burial would be done, and counted, again).
            metrics.done.add(tally.done);
            metrics.deadLettered.add(tally.buried);
            if (tally.done + tally.retried + tally.buried > 0) {
                metrics.observer.committed(channel, tally.done, tally.retried, tally.buried);
            }
            if (tally.buried > 0) {
                LOG.warn("{} task(s) of channel '{}' moved to the dead letters", tally.buried, channel);
            }
            return new Outcome(tally.found, tally.done, null);
        } catch (Released r) {
            return new Outcome(tally.found, 0, r.failure);
        }
    }

    /**
     * Runs the claimed tasks' handlers in order, counting in {@code tally} those done and those that
     * went to the dead letters instead (unreadable payloads). On a failure, releases the claim and
     * throws {@link Released}.
     */
    private void runTasks(Connection c, WorkerSlot slot, ClaimStatements.Watch watch, RegisteredHandler handler,
            ChannelPolicy policy, ClaimStatements.Claim claim, boolean batchMates, Tally tally) throws Exception {
        TransactionState.Probe probe = TransactionState.probe(c);
        List<ClaimedTask> tasks = claim.run();
        // Only where a failed handler statement could free rows besides its own task's, which is
        // charged either way: not for one task per transaction, whose round trips count most.
        if (batchMates && tasks.stream().anyMatch(t -> t.payload() != null)) {
            statements.holdRowsThroughHandlerErrors(c, watch);
        }
        for (int i = 0; i < tasks.size(); i++) {
            ClaimedTask task = tasks.get(i);
            if (task.payload() == null) {
                tally.buried++; // larger than the listener loads: the claim moved it to the dead letters
                continue;
            }
            // The task's log context, for its handler and for the library's lines about it.
            TaskMdc mdc = slot.mdc.task(task.id(), handler.channel(), task.attempt());
            TaskTracing.Scope trace = TaskTracing.Scope.NONE;
            try {
                Record payload;
                String error;
                Throwable cause = null;
                try {
                    payload = read(handler, task);
                } catch (IllegalArgumentException unreadable) {
                    String reason = printable(unreadable.getMessage() == null ? unreadable.toString() : unreadable.getMessage());
                    statements.buryLoaded(c, watch, handler.channel(), task, reason);
                    tally.buried++;
                    continue;
                } catch (Throwable t) {
                    payload = null;
                    cause = t;
                }
                if (cause == null) {
                    // Open until the task's outcome is logged, so that those lines carry the trace too;
                    // before the handler's timer is set, so that nothing between the two can leave it set.
                    trace = tracing.start(handler.channel(), task, slot.traceMdc);
                    TransactionGuard guard = TransactionGuard.of(c, probe);
                    long timeout = policy.handlerTimeout().toMillis();
                    WorkerSlot.Call call = new WorkerSlot.Call(task.id(), task.attempt(), handler.channel(),
                            System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout), timeout);
                    slot.calling(call);
                    String owner = null;
                    long started = System.nanoTime();
                    metrics.observer.handlerStarting(handler.channel(), Math.max(0, started - task.dueAtNanos()));
                    try {
                        handler.handler().handle(payload, new RunningTask(task.id(), handler.channel(), task.attempt(),
                                task.publishedAt(), guard.connection()));
                        // The transaction's owner flushes and checks what the handler did past the guard
                        // (through a framework that reaches the raw connection).
                        owner = transactions.afterHandler();
                    } catch (Throwable t) {
                        cause = t;
                    } finally {
                        guard.close();
                    }
                    try {
                        slot.called(); // throws if the watchdog timed the call out first
                    } catch (WorkerSlot.Abandoned timedOut) {
                        trace.failed("the handler overran its timeout of " + timeout + " ms", null);
                        // The watchdog's follow-up notes the release, then aborts the connection; but the
                        // handler may have returned in between (the server's statement timeout, which is the
                        // handler timeout, ended a statement it waited in), and unwinding rolls the claim
                        // back at once: note it here too, first, or the batch's other tasks would be charged
                        // an attempt that "never finished". A second note on one claim changes nothing.
                        bookkeeper.release(claim.xid(), task.id(), call.timedOutError());
                        throw timedOut;
                    }
                    error = cause != null ? describe(cause) : printable(guard.verdict());
                    if (error == null && owner != null) {
                        error = printable(owner);
                    }
                    metrics.observer.handlerReturned(handler.channel(), error == null, System.nanoTime() - started);
                    if (error != null && cause == null && guard.ended()) {
                        trace.failed(error, null);
                        ended(handler.channel(), claim, i, error);
                        return;
                    }
                } else {
                    error = describe(cause);
                }
                if (error != null) {
                    trace.failed(error, cause);
                    fail(handler.channel(), policy, task, error, cause);
                    long[] all = ids(tasks);
                    Failure failure = new Failure(claim.xid(), new long[] {task.id()}, Arrays.copyOfRange(all, 0, i),
                            Arrays.copyOfRange(all, i + 1, all.length));
                    bookkeeper.release(claim.xid(), task.id(), error);
                    throw new Released(failure);
                }
                tally.done++;
            } finally {
                trace.close();
                mdc.close();
            }
        }
    }

    /**
     * A handler ended the transaction by a path the guard does not cover. If it rolled back, this is
     * a failure like any other. If it committed, the tasks before it are done, its own effects
     * committed as far as they went, and the tasks after it were deleted without running: they are
     * put back. Either way the handler's task counts as failed.
     */
    private void ended(String channel, ClaimStatements.Claim claim, int index, String error) throws Exception {
        ChannelPolicy policy = policies.get(channel);
        ClaimedTask task = claim.run().get(index);
        long[] all = ids(claim.run());
        if (!"committed".equals(bookkeeper.status(claim.xid()))) {
            fail(channel, policy, task, error, null);
            bookkeeper.release(claim.xid(), task.id(), error);
            throw new Released(new Failure(claim.xid(), new long[] {task.id()}, Arrays.copyOfRange(all, 0, index),
                    Arrays.copyOfRange(all, index + 1, all.length)));
        }
        // Committed: the tasks after it were deleted without running. (One too large to load went to
        // the dead letters, which is where it belongs.)
        List<ClaimedTask> after = claim.run().subList(index + 1, claim.run().size()).stream()
                .filter(t -> t.payload() != null).toList();
        LOG.error("Task {} on channel '{}': {}; it committed the deletion of its batch, so the {} task(s) after it are "
                + "put back. Its own effects are committed as far as they went. Fix the handler.", task.id(), channel,
                error, after.size());
        bookkeeper.restore(channel, after);
        metrics.failed(channel);
    }

    private void fail(String channel, ChannelPolicy policy, ClaimedTask task, String error, Throwable cause) {
        metrics.failed(channel);
        if (task.attempt() >= policy.maxAttempts()) {
            LOG.warn("Task {} on channel '{}' failed its last attempt ({} of {}); it goes to the dead letters: {}",
                    task.id(), channel, task.attempt(), policy.maxAttempts(), error);
        } else {
            LOG.warn("Task {} on channel '{}' failed (attempt {} of {}); it is retried after its backoff: {}", task.id(),
                    channel, task.attempt(), policy.maxAttempts(), error);
        }
        if (cause != null) {
            LOG.debug("Task {} failed", task.id(), cause);
        }
        timer.wakeIn(channel, 0); // its claim charges it
    }

    private Record read(RegisteredHandler handler, ClaimedTask task) {
        Type type = handler.payloadType();
        boolean rowChange = type instanceof ParameterizedType p && p.getRawType() == RowChange.class;
        Record payload = (rowChange ? rowCodec : codec).read(handler.channel(), task.payload(), type);
        if (payload == null) {
            throw new IllegalArgumentException("A payload of channel '" + handler.channel() + "' is JSON null, not a "
                    + type.getTypeName());
        }
        return payload;
    }

    /** The error and its causes, printable, at most {@value #MAX_ERROR_CHARS} characters. */
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(error.toString());
        for (Throwable cause = error.getCause(); cause != null && text.length() < MAX_ERROR_CHARS; cause = cause.getCause()) {
            text.append("; caused by ").append(cause);
        }
        return printable(text.toString());
    }

    /**
     * Text for an error history, a log line and a terminal: control characters escaped (a payload's
     * text, quoted by a mapping error or a handler's exception, must not forge log lines), at most
     * {@value #MAX_ERROR_CHARS} characters; null for null.
     */
    private static String printable(String text) {
        String escaped = Printable.escape(text);
        return escaped == null || escaped.length() <= MAX_ERROR_CHARS ? escaped : escaped.substring(0, MAX_ERROR_CHARS);
    }

    static long[] ids(List<ClaimedTask> tasks) {
        long[] ids = new long[tasks.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tasks.get(i).id();
        }
        return ids;
    }
}
