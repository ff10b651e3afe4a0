package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.Installation;
import dev.pgpubsub.core.internal.Names;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * The pending tasks of an installation, for what is done to them from outside a listener: cancelling
 * one, by id or by its unique key. Each call runs its own transaction, through the schema's
 * {@code cancel} functions (they run as their owner: the caller needs only {@code EXECUTE} on them).
 *
 * <pre>{@code
 * Tasks.Cancellation result = Tasks.of(dataSource).cancel("reminders", "order-42:reminder");
 * }</pre>
 *
 * <p>A cancel never waits for a running handler: a task whose row is held by a claim (its handler
 * runs in that transaction) cannot be removed in the middle of it, and the result says so.
 */
public final class Tasks {

    /** What a cancel found. */
    public enum Cancellation {
        /** The task was pending, and is removed: it will not run. */
        CANCELLED,
        /**
         * Its row is held by another transaction, almost always the claim that runs its handler (else a
         * publisher replacing it): nothing was done. When the handler succeeds the task is done; when it
         * fails the task is pending again and may be cancelled then.
         */
        RUNNING,
        /** No pending task has that id (or key): unknown, done, cancelled, or in the dead letters. */
        NOT_FOUND
    }

    private final Installation installation;
    private final String schema;

    private Tasks(DataSource dataSource, String schema) {
        this.installation = new Installation(dataSource, schema);
        this.schema = installation.schema();
    }

    /**
     * The tasks of the installation in {@value PgPubSub#DEFAULT_SCHEMA}.
     *
     * @param dataSource the database pgpubsub is installed in
     * @return a view of its tasks; each call runs its own transaction
     * @throws IllegalArgumentException when {@code dataSource} is null
     */
    public static Tasks of(DataSource dataSource) {
        return new Tasks(dataSource, PgPubSub.DEFAULT_SCHEMA);
    }

    /**
     * The tasks of the installation in {@code schema}.
     *
     * @param dataSource the database pgpubsub is installed in
     * @param schema     the schema of the installation
     * @return a view of its tasks; each call runs its own transaction
     * @throws IllegalArgumentException when {@code dataSource} is null or the schema name is not valid
     */
    public static Tasks of(DataSource dataSource, String schema) {
        return new Tasks(dataSource, schema);
    }

    /**
     * Cancels the pending task {@code id}, without waiting.
     *
     * @param id the task's id, as publish returned it
     * @return CANCELLED, RUNNING or NOT_FOUND
     * @throws PgPubSubException when the database cannot be reached, pgpubsub (version 7 or later) is
     *                           not installed there, or the role may not execute {@code cancel}
     */
    public Cancellation cancel(long id) {
        return call("SELECT " + schema + ".cancel(?::bigint)", "task " + id, ps -> ps.setLong(1, id));
    }

    /**
     * Cancels the pending task that holds {@code key} on {@code channel}, without waiting.
     *
     * @param channel the channel the task was published to
     * @param key     its unique key
     * @return CANCELLED, RUNNING or NOT_FOUND
     * @throws IllegalArgumentException when the channel name or the key is not valid
     * @throws PgPubSubException when the database cannot be reached, pgpubsub (version 7 or later) is
     *                           not installed there, or the role may not execute {@code cancel}
     */
    public Cancellation cancel(String channel, String key) {
        String name = Names.requireChannel(channel);
        PublishOptions.requireKey(key, "The key");
        return call("SELECT " + schema + ".cancel(?::text, ?::text)", "the task with key \"" + key + "\" on channel '"
                + name + "'", ps -> {
                    ps.setString(1, name);
                    ps.setString(2, key);
                });
    }

    /**
     * Cancels the pending task {@code id}; while its handler runs, tries again until it has ended or
     * {@code wait} has passed. A handler that fails leaves the task pending: it is then cancelled. One
     * that succeeds leaves nothing to cancel: NOT_FOUND (as does a failure of the task's last attempt,
     * when the next claim moves it to the dead letters first).
     *
     * @param id   the task's id, as publish returned it
     * @param wait how long to wait at most for a running handler to end; zero does not wait
     * @return CANCELLED, NOT_FOUND, or RUNNING when the handler still runs after {@code wait}
     * @throws IllegalArgumentException when {@code wait} is null or negative
     * @throws PgPubSubException as {@link #cancel(long)}, or when interrupted while waiting
     */
    public Cancellation cancel(long id, Duration wait) {
        return retrying(wait, () -> cancel(id));
    }

    /**
     * Cancels the pending task that holds {@code key} on {@code channel}; while its handler runs,
     * tries again until it has ended or {@code wait} has passed, as {@link #cancel(long, Duration)}.
     * Once the running task has ended, the key names whichever task holds it then: the same task,
     * pending again after a failure, or one published with the key since.
     *
     * @param channel the channel the task was published to
     * @param key     its unique key
     * @param wait    how long to wait at most for a running handler to end; zero does not wait
     * @return CANCELLED, NOT_FOUND, or RUNNING when the handler still runs after {@code wait}
     * @throws IllegalArgumentException when the channel name or the key is not valid, or {@code wait}
     *                                  is null or negative
     * @throws PgPubSubException as {@link #cancel(String, String)}, or when interrupted while waiting
     */
    public Cancellation cancel(String channel, String key, Duration wait) {
        Names.requireChannel(channel);
        PublishOptions.requireKey(key, "The key");
        return retrying(wait, () -> cancel(channel, key));
    }

    /** Tries {@code attempt} while it finds the task running, with a growing pause, until {@code wait} has passed. */
    private static Cancellation retrying(Duration wait, java.util.function.Supplier<Cancellation> attempt) {
        if (wait == null || wait.isNegative()) {
            throw new IllegalArgumentException("wait is " + wait + ": pass how long to wait for a running handler, "
                    + "e.g. Duration.ofSeconds(30), or Duration.ZERO not to wait");
        }
        long deadline = System.nanoTime() + wait.toNanos();
        long pauseMillis = 20;
        while (true) {
            Cancellation result = attempt.get();
            long left = deadline - System.nanoTime();
            if (result != Cancellation.RUNNING || left <= 0) {
                return result;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(pauseMillis, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgPubSubException("Interrupted while waiting to cancel a running task", e);
            }
            pauseMillis = Math.min(MAX_PAUSE_MILLIS, pauseMillis * 2);
        }
    }

    /** The longest pause between two tries of a cancel that waits. */
    private static final long MAX_PAUSE_MILLIS = 500;

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private Cancellation call(String sql, String what, Binder binder) {
        return installation.inTransaction("cancel " + what, "Check that pgpubsub is installed there at version 7 or "
                + "later (PgPubSub.migrate) and that the user may execute " + schema + ".cancel.", c -> {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        binder.bind(ps);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            return Cancellation.valueOf(rs.getString(1).toUpperCase(Locale.ROOT));
                        }
                    }
                });
    }
}
