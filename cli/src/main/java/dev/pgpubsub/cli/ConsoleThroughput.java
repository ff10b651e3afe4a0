package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.Names;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The overview's throughput chart. Done tasks are deleted, so they cannot be counted afterwards: every
 * {@link #EVERY} the console reads the listeners' heartbeats (their cumulative done counters, one
 * small bounded query) and keeps how many tasks were done since the previous reading, in a ring of
 * the last {@link #POINTS} readings (30 minutes), in memory. A listener seen for the first time counts
 * its whole counter only if it started since the previous reading (else it was there before, unseen,
 * and its counter is the baseline: see {@link #add}); one that went away counts no more; a counter
 * that went back (a restart under the same name) counts from its new value. The chart is an SVG drawn here: numbers
 * only, no script.
 */
final class ConsoleThroughput implements AutoCloseable {

    /** How often the heartbeats are read: as often as listeners write them by default. */
    static final Duration EVERY = Duration.ofSeconds(10);
    /** Readings kept: 30 minutes. */
    static final int POINTS = 180;
    /** Heartbeat rows read at most per reading. */
    static final int MAX_LISTENERS = 1_000;

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleThroughput.class);
    private static final int WIDTH = 600;
    private static final int HEIGHT = 120;

    /** Tasks done in the interval that ended at {@code at} (epoch milliseconds), over {@code seconds}. */
    record Point(long at, long done, double seconds) {
        double perSecond() {
            return seconds <= 0 ? 0 : done / seconds;
        }
    }

    private final DataSource dataSource;
    private final String sql;
    private final ArrayDeque<Point> ring = new ArrayDeque<>();
    private final ScheduledExecutorService scheduler;
    private Map<String, Long> previous;
    private long previousAt;
    /** The database's clock at the previous reading, epoch milliseconds. */
    private long previousDbAt;
    private boolean failing;

    ConsoleThroughput(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.sql = "SELECT host || ' ' || pid || ' ' || listener, tasks_done, (extract(epoch FROM started_at) * 1000)::bigint"
                + " FROM " + Names.requireSchema(schema) + ".listener_heartbeat WHERE expires_at >= now()"
                + " ORDER BY host, pid, listener LIMIT " + MAX_LISTENERS;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(body -> {
            Thread t = new Thread(body, "pgpubsub-console-throughput");
            t.setDaemon(true);
            return t;
        });
    }

    /** Reads the heartbeats every {@link #EVERY}, the first time at once. */
    void start() {
        scheduler.scheduleWithFixedDelay(this::sampleQuietly, 0, EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void sampleQuietly() {
        try {
            sample();
            if (failing) {
                LOG.info("Reading the listeners' heartbeats for the throughput chart works again");
                failing = false;
            }
        } catch (SQLException | RuntimeException e) {
            if (!failing) {
                LOG.warn("Reading the listeners' heartbeats for the throughput chart failed; the chart has a gap until "
                        + "a reading works (trying again every {} s): {}", EVERY.toSeconds(), e.getMessage());
                failing = true;
            }
        }
    }

    /** One reading: the counters now, and what they grew by since the last one. */
    void sample() throws SQLException {
        Map<String, Long> counters = new HashMap<>();
        Map<String, Long> startedAt = new HashMap<>();
        long dbNow;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            c.setReadOnly(true);
            try {
                try (PreparedStatement ps = c.prepareStatement("SET LOCAL statement_timeout = '5s'")) {
                    ps.execute();
                }
                // The database's clock, read even when no listener has a row: start times are compared to it next time.
                try (PreparedStatement ps = c.prepareStatement("SELECT (extract(epoch FROM now()) * 1000)::bigint");
                        ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    dbNow = rs.getLong(1);
                }
                try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        counters.put(rs.getString(1), rs.getLong(2));
                        startedAt.put(rs.getString(1), rs.getLong(3));
                    }
                }
            } finally {
                c.rollback();
            }
        }
        add(counters, startedAt, System.currentTimeMillis(), dbNow);
    }

    /**
     * Adds the growth of the counters since the previous reading; the first reading is the baseline.
     * A listener not in the previous reading counts its whole counter only if it started after that
     * reading (less one {@link #EVERY}, for a listener's clock a little behind the database's);
     * otherwise it ran unseen before, and its counter is only its baseline.
     *
     * @param counters  the done counter of every live listener
     * @param startedAt when each of them started (epoch milliseconds, from its own clock)
     * @param at        this reading's time (epoch milliseconds, this process's clock: the chart's)
     * @param dbAt      the database's time of this reading (epoch milliseconds)
     */
    synchronized void add(Map<String, Long> counters, Map<String, Long> startedAt, long at, long dbAt) {
        if (previous != null) {
            long done = 0;
            for (Map.Entry<String, Long> e : counters.entrySet()) {
                Long before = previous.get(e.getKey());
                long value = e.getValue();
                if (before == null) {
                    done += startedAt.getOrDefault(e.getKey(), Long.MIN_VALUE) >= previousDbAt - EVERY.toMillis() ? value : 0;
                } else {
                    done += value < before ? value : value - before;
                }
            }
            ring.addLast(new Point(at, done, (at - previousAt) / 1000.0));
            while (ring.size() > POINTS) {
                ring.removeFirst();
            }
        }
        previous = Map.copyOf(counters);
        previousAt = at;
        previousDbAt = dbAt;
    }

    /** The readings kept, oldest first. */
    synchronized List<Point> points() {
        return List.copyOf(ring);
    }

    /**
     * The chart: tasks done per second over the readings kept, as an SVG of fixed size with a line, the
     * peak and the latest rate. Only numbers the console computed go into it.
     */
    String svg() {
        List<Point> points = points();
        StringBuilder out = new StringBuilder(4096);
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
                .append("\" role=\"img\" aria-label=\"Tasks done per second, last 30 minutes\">")
                .append("<title>Tasks done per second, last 30 minutes</title>")
                .append("<rect x=\"0.5\" y=\"0.5\" width=\"").append(WIDTH - 1).append("\" height=\"").append(HEIGHT - 1)
                .append("\" fill=\"#fafafa\" stroke=\"#cccccc\"/>");
        if (points.isEmpty()) {
            label(out, 8, HEIGHT / 2 + 4, "Collecting: one reading every " + EVERY.toSeconds() + " s.");
            return out.append("</svg>").toString();
        }
        double peak = 0;
        for (Point p : points) {
            peak = Math.max(peak, p.perSecond());
        }
        double top = peak <= 0 ? 1 : peak;
        int plotTop = 22;
        int plotHeight = HEIGHT - plotTop - 6;
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < points.size(); i++) {
            // Right-aligned: the latest reading at the right edge, one step per reading.
            double x = WIDTH - 4 - (points.size() - 1 - i) * ((WIDTH - 8) / (double) (POINTS - 1));
            double y = plotTop + plotHeight - points.get(i).perSecond() / top * plotHeight;
            line.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        out.append("<polyline class=\"rate\" fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"2\" points=\"")
                .append(line.toString().trim()).append("\"/>");
        label(out, 8, 15, String.format(Locale.ROOT, "now %s/s, peak %s/s, %d readings", rate(points.get(points.size() - 1)
                .perSecond()), rate(peak), points.size()));
        return out.append("</svg>").toString();
    }

    private static String rate(double perSecond) {
        return perSecond >= 100 ? String.format(Locale.ROOT, "%,.0f", perSecond) : String.format(Locale.ROOT, "%.1f", perSecond);
    }

    private static void label(StringBuilder out, int x, int y, String text) {
        out.append("<text x=\"").append(x).append("\" y=\"").append(y)
                .append("\" font-family=\"sans-serif\" font-size=\"12\" fill=\"#333333\">").append(escape(text))
                .append("</text>");
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Stops reading. */
    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
