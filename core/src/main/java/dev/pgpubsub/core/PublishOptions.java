package dev.pgpubsub.core;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * How a task is published, beyond its channel and payload: an immutable value, each method returning
 * a changed copy. Start from {@link #defaults()}:
 *
 * <pre>{@code
 * tx.publish(INVOICES, invoice, PublishOptions.defaults().key("order-42:invoice"));            // once while pending
 * tx.publish(REINDEX, doc, PublishOptions.defaults().key("doc-7").replace().runAt(inAMinute)); // latest wins
 * tx.publish(EMAILS, passwordReset, PublishOptions.defaults().priority(50));                  // before the newsletter
 * }</pre>
 *
 * <p>A task with a key is unique on its channel while it is pending: publishing the key again keeps
 * the pending task ({@link #keep()}, the default) or replaces its payload, run time and trace context
 * ({@link #replace()}); either way the pending task's id is returned. The key is free again once the
 * task is done or dead-lettered. See docs/tasks.md for what happens while the task runs.
 *
 * <p>Among the due tasks of a channel, a higher {@link #priority(int) priority} is claimed first;
 * within a priority, the earlier run time, then the earlier publish. All tasks have priority 0 unless
 * given another.
 */
public final class PublishOptions {

    /** The longest key, in bytes of UTF-8. */
    public static final int MAX_KEY_BYTES = 256;

    /** The highest priority. */
    public static final int MAX_PRIORITY = 100;

    private static final PublishOptions DEFAULTS = new PublishOptions(null, false, null, 0);

    private final String key;
    private final boolean replace;
    private final Instant runAt;
    private final int priority;

    private PublishOptions(String key, boolean replace, Instant runAt, int priority) {
        this.key = key;
        this.replace = replace;
        this.runAt = runAt;
        this.priority = priority;
    }

    /**
     * No key, due now, priority 0.
     *
     * @return the options every plain publish has
     */
    public static PublishOptions defaults() {
        return DEFAULTS;
    }

    /**
     * With a unique key on the task's channel.
     *
     * @param key e.g. {@code "order-42:invoice"}: not blank, at most {@value #MAX_KEY_BYTES} bytes of UTF-8
     * @return a copy with this key
     * @throws IllegalArgumentException when the key is null, blank or too long
     */
    public PublishOptions key(String key) {
        return new PublishOptions(requireKey(key, "The key"), replace, runAt, priority);
    }

    /**
     * When a task with the key is pending, keep it and publish nothing (the default).
     *
     * @return a copy that keeps
     */
    public PublishOptions keep() {
        return new PublishOptions(key, false, runAt, priority);
    }

    /**
     * When a task with the key is pending, replace its payload, run time and trace context (its
     * attempts start again from zero).
     *
     * @return a copy that replaces
     */
    public PublishOptions replace() {
        return new PublishOptions(key, true, runAt, priority);
    }

    /**
     * Not to run before {@code runAt}; a time in the past means now.
     *
     * @param runAt the earliest time the task may run
     * @return a copy with this time
     * @throws IllegalArgumentException when {@code runAt} is null
     */
    public PublishOptions runAt(Instant runAt) {
        if (runAt == null) {
            throw new IllegalArgumentException("runAt is null: pass the earliest time to run the task, or leave it "
                    + "unset to run it now");
        }
        return new PublishOptions(key, replace, runAt, priority);
    }

    /**
     * With a priority: among the due tasks of the channel, a higher one is claimed first. In
     * {@link #replace()} mode, a pending task with the key takes this priority too; {@link #keep()}
     * keeps the pending task as it is.
     *
     * @param priority 0 (the default, the lowest) to {@value #MAX_PRIORITY}
     * @return a copy with this priority
     * @throws IllegalArgumentException when {@code priority} is out of range
     */
    public PublishOptions priority(int priority) {
        if (priority < 0 || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException("The priority is " + priority + ", not between 0 and " + MAX_PRIORITY
                    + ": pass 0 (the default) to " + MAX_PRIORITY + "; a higher priority is claimed first");
        }
        return new PublishOptions(key, replace, runAt, priority);
    }

    /**
     * The key, or null for none.
     *
     * @return the key
     */
    public String key() {
        return key;
    }

    /**
     * Whether a pending task with the key is replaced (else kept).
     *
     * @return true for replace
     */
    public boolean replaces() {
        return replace;
    }

    /**
     * The earliest run time, or null for now.
     *
     * @return the run time
     */
    public Instant runAt() {
        return runAt;
    }

    /**
     * The priority, 0 unless set.
     *
     * @return the priority
     */
    public int priority() {
        return priority;
    }

    /** The SQL functions' name of the mode. */
    String onConflict() {
        return replace ? "replace" : "keep";
    }

    /** {@code key} if it is a valid key, else an exception whose message starts with {@code what}. */
    static String requireKey(String key, String what) {
        if (key == null) {
            throw new IllegalArgumentException(what + " is null: leave the key unset for a task without one");
        }
        if (key.isBlank()) {
            throw new IllegalArgumentException(what + " \"" + key + "\" is blank: pass a key that names the task, "
                    + "e.g. \"order-42:invoice\"");
        }
        int bytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KEY_BYTES) {
            throw new IllegalArgumentException(what + " \"" + key.substring(0, 40) + "...\" is " + bytes + " bytes of "
                    + "UTF-8, more than " + MAX_KEY_BYTES + ": use a shorter key, e.g. a hash of this one");
        }
        return key;
    }

    @Override
    public String toString() {
        return "PublishOptions[key=" + key + ", " + onConflict() + ", runAt=" + runAt + ", priority=" + priority + "]";
    }
}
