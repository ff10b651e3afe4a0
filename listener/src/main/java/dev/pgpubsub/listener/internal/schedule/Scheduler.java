package dev.pgpubsub.listener.internal.schedule;

import dev.pgpubsub.listener.internal.Backoff;
import dev.pgpubsub.listener.internal.Threads;
import dev.pgpubsub.listener.internal.WorkerConnections;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the slots of a listener's schedules: one timer thread, which wakes at the next slot of
 * any schedule (at least once a minute, so that a clock that jumps is followed), offers each due slot
 * to the database ({@code publish_slot}, which publishes it unless another listener did) and goes
 * back to sleep. A tick that comes late (a busy machine, a pause of the process) offers every slot
 * it passed, oldest first, up to {@link #MAX_SLOTS_PER_TICK}; only the first tick after start offers
 * just the latest slot, as what was missed while no listener ran is skipped. One tick is scheduled
 * at a time, so nothing queues up. Each statement runs in a transaction of its own under a statement
 * timeout, on a connection borrowed from the workers' pool for that time; while the database fails,
 * ticks back off as claims do. It never touches the LISTEN connection or its thread.
 */
public final class Scheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);
    /** The longest sleep between two ticks. */
    static final Duration MAX_SLEEP = Duration.ofMinutes(1);
    /**
     * The most slots of one schedule a tick offers: a tick that comes late (a busy machine, a pause
     * of the process) publishes the slots it passed, but a long pause does not flood the channel.
     */
    static final int MAX_SLOTS_PER_TICK = 10;

    private final DataSource dataSource;
    private final String sql;
    private final List<ScheduleSpec> schedules;
    private final Duration grace;
    private final Duration timeout;
    private final Clock clock;
    private final String name;
    private final ScheduledExecutorService timer;
    /** Per schedule, the latest slot this listener offered or skipped: it is not offered again. */
    private final Map<String, Instant> handled = new HashMap<>();
    private boolean registered;
    private int failures;

    /**
     * A scheduler, not started.
     *
     * @param dataSource where its connections come from (the workers' pool)
     * @param schema     the installation's schema, valid
     * @param schedules  the listener's schedules
     * @param grace      how late a slot may be published without catching up
     * @param timeout    the statement timeout of each statement
     * @param clock      the clock slots are computed with
     * @param name       the listener's name, for its thread and log lines
     */
    public Scheduler(DataSource dataSource, String schema, List<ScheduleSpec> schedules, Duration grace, Duration timeout,
            Clock clock, String name) {
        this.dataSource = dataSource;
        this.sql = "SELECT " + schema + ".publish_slot(name => ?, channel => ?, payload => ?::jsonb, definition => ?, "
                + "slot => ?, next_slot => ?, overdue => ?)";
        this.schedules = List.copyOf(schedules);
        this.grace = grace;
        this.timeout = timeout;
        this.clock = clock;
        this.name = name;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, Threads.factory(name + "-schedules", false));
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // close() drops the next tick
        this.timer = executor;
    }

    /** Registers the schedules and publishes what is due, at once and then at each slot. */
    public void start() {
        timer.execute(this::tick);
    }

    private void tick() {
        long sleep;
        try {
            Instant now = clock.instant();
            // Each schedule on its own: one that fails (its channel refused, say) does not hold the others up.
            Exception first = null;
            if (!registered) {
                for (ScheduleSpec s : schedules) {
                    try {
                        offer(s, null, s.slots().next(now), false);
                    } catch (SQLException | RuntimeException e) {
                        first = first == null ? e : first;
                    }
                }
                registered = first == null;
            }
            for (ScheduleSpec s : schedules) {
                try {
                    publishDue(s, now);
                } catch (SQLException | RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
            if (first instanceof SQLException sql) {
                throw sql;
            } else if (first != null) {
                throw (RuntimeException) first;
            }
            if (failures > 0) {
                LOG.info("Listener {}: schedules are published again", name);
                failures = 0;
            }
            sleep = untilNextSlot(clock.instant());
        } catch (SQLException | RuntimeException e) {
            failures++;
            sleep = Backoff.DATABASE.millis(failures);
            if (failures == 1) {
                LOG.warn("Listener {}: could not publish the schedules' slots ({}); trying again with backoff",
                        name, WorkerConnections.rootMessage(e));
                LOG.debug("Schedule failure", e);
            } else {
                LOG.debug("Publishing the schedules' slots failed again", e);
            }
        }
        try {
            timer.schedule(this::tick, Math.max(1, sleep), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // close() shut the timer down: no more ticks
        }
    }

    private void publishDue(ScheduleSpec s, Instant now) throws SQLException {
        Instant slot = s.slots().latest(now);
        Instant done = handled.get(s.name());
        if (slot == null || (done != null && !slot.isAfter(done))) {
            return;
        }
        boolean overdue = Duration.between(slot, now).compareTo(grace) > 0;
        if (overdue && !s.catchUp()) {
            handled.put(s.name(), slot);
            LOG.info("Listener {}: schedule '{}' skips its slot {}, {} late (missed while no listener ran, or while this "
                    + "one was paused; Schedule.catchUp() publishes it)", name, s.name(), slot, Duration.between(slot, now));
            return;
        }
        // On the first tick, only the latest slot: what was missed before start is skipped (or caught
        // up once, above). From then on a tick that comes late offers every slot it passed.
        List<Instant> due = overdue || done == null ? List.of(slot) : passed(s.slots(), done, now, slot);
        if (done != null && !due.get(0).equals(s.slots().next(done))) {
            LOG.info("Listener {}: schedule '{}' skips its slots after {} and before {}: its timer ran {} late, and a tick "
                    + "offers at most {} slots, each at most {} late", name, s.name(), done, due.get(0),
                    Duration.between(s.slots().next(done), now), MAX_SLOTS_PER_TICK, grace);
        }
        Instant next = s.slots().next(now);
        for (Instant d : due) {
            Long task = offer(s, d, next, overdue);
            handled.put(s.name(), d);
            if (task != null) {
                LOG.debug("Listener {}: schedule '{}' published slot {} as task {}", name, s.name(), d, task);
            }
        }
    }

    /**
     * The slots after {@code done} up to {@code latest}, oldest first: those at most the grace late,
     * and of them the latest {@link #MAX_SLOTS_PER_TICK}. Never empty ({@code latest} is in it); at
     * most a grace's worth of slots is walked (60 for the shortest interval, a second).
     */
    private List<Instant> passed(Slots slots, Instant done, Instant now, Instant latest) {
        Instant oldest = now.minus(grace).minusNanos(1);
        ArrayDeque<Instant> due = new ArrayDeque<>(MAX_SLOTS_PER_TICK + 1);
        Instant at = done.isAfter(oldest) ? done : oldest;
        for (Instant slot = slots.next(at); slot != null && !slot.isAfter(latest); slot = slots.next(slot)) {
            due.addLast(slot);
            if (due.size() > MAX_SLOTS_PER_TICK) {
                due.removeFirst();
            }
        }
        return due.isEmpty() ? List.of(latest) : List.copyOf(due);
    }

    /** Calls publish_slot; the task id, or null when the slot was not this listener's to publish. */
    private Long offer(ScheduleSpec s, Instant slot, Instant next, boolean overdue) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            boolean committed = false;
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
                    ps.setString(1, timeout.toMillis() + "ms");
                    ps.executeQuery().close();
                }
                Long task;
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setString(1, s.name());
                    ps.setString(2, s.channel());
                    ps.setString(3, s.payload());
                    ps.setString(4, s.definition());
                    // As run_at is bound (the JDBC 4.2 type of timestamptz), whatever the JVM's time zone.
                    ps.setObject(5, slot == null ? null : slot.atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
                    ps.setObject(6, next == null ? null : next.atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
                    ps.setBoolean(7, overdue);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        long id = rs.getLong(1);
                        task = rs.wasNull() ? null : id;
                    }
                }
                c.commit();
                committed = true;
                return task;
            } finally {
                if (!committed) {
                    c.rollback();
                }
                c.setAutoCommit(autoCommit);
            }
        }
    }

    private long untilNextSlot(Instant now) {
        long sleep = MAX_SLEEP.toMillis();
        for (ScheduleSpec s : schedules) {
            Instant next = s.slots().next(now);
            if (next != null) {
                sleep = Math.min(sleep, Duration.between(now, next).toMillis());
            }
        }
        return sleep;
    }

    /** Stops the timer; waits a little for a tick under way (its statement timeout bounds it). */
    @Override
    public void close() {
        timer.shutdown();
        try {
            if (!timer.awaitTermination(1, TimeUnit.SECONDS)) {
                timer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
