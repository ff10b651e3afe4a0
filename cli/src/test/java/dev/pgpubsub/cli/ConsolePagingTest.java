package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's lists and counts at their edges: keyset paging through rows that share a timestamp,
 * error histories longer than a page can show, more channels than the overview lists, and a
 * retrying count that must not read a whole channel.
 */
@PostgresTest
class ConsolePagingTest {

    private static final Pattern NEXT = Pattern.compile("<a href=\"([^\"]+)\" id=\"(?:next)\"");
    private static final Pattern ENTITY = Pattern.compile("&(#x?[0-9A-Fa-f]+|amp|quot|lt|gt);");

    private final ConsoleClient http = new ConsoleClient();
    private final TestDatabase db;

    @TempDir
    Path dir;

    ConsolePagingTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void install() throws Exception {
        PgPubSub.migrate(db.dataSource());
    }

    /** 120 tasks of one run_at: three pages by (run_at, id), every task once, in id order. */
    @Test
    void theChannelPagePagesThroughTasksThatShareTheirRunAt() throws Exception {
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at)"
                + " SELECT 'paging_same', jsonb_build_object('n', g), timestamptz '2030-01-01 00:00:00+00'"
                + " FROM generate_series(1, 120) g");
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            List<Long> seen = walk(console.base(), "/channel?name=paging_same", Pattern.compile("<tr id=\"task-(\\d+)\""));
            List<Long> expected = db.strings("SELECT id FROM pgpubsub.notification WHERE channel = 'paging_same' ORDER BY id")
                    .stream().map(Long::valueOf).toList();
            assertThat(seen).hasSize(120).isEqualTo(expected);
        } finally {
            db.execute("DELETE FROM pgpubsub.notification WHERE channel = 'paging_same'");
        }
    }

    /** 120 dead letters of one dead_at: three pages by (dead_at, id) descending, every one once. */
    @Test
    void theDeadLetterPagePagesThroughDeadLettersThatShareTheirTime() throws Exception {
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason, dead_at)"
                + " SELECT 7000 + g, 'paging_dead', '{}', now(), 1, 'failed', timestamptz '2026-01-01 00:00:00+00'"
                + " FROM generate_series(1, 120) g");
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            List<Long> seen = walk(console.base(), "/dead-letters?channel=paging_dead", Pattern.compile("<tr id=\"dead-(\\d+)\""));
            assertThat(seen).isEqualTo(LongStream.rangeClosed(7001, 7120).map(i -> 14121 - i).boxed().toList());
        } finally {
            db.execute("DELETE FROM pgpubsub.dead_letter WHERE channel = 'paging_dead'");
        }
    }

    /**
     * A history of 3,000 failures (about 400 kB of JSON) shows its latest {@value ConsoleQueries#ERRORS_SHOWN}
     * entries, whole; it used to be cut mid-JSON and shown as "not readable".
     */
    @Test
    void aLongErrorHistoryShowsItsLatestEntries() throws Exception {
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at, attempts, last_error, errors)"
                + " SELECT 'long_history', '{}', now() + interval '1 hour', 3000, 'failure 3000',"
                + " jsonb_agg(jsonb_build_object('attempt', g, 'at', '2026-11-29T10:00:00Z', 'error',"
                + " 'failure ' || g || ' ' || repeat('x', 100)) ORDER BY g) FROM generate_series(1, 3000) g");
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            String page = http.get(console.base() + "/channel?name=long_history").body();
            assertThat(page).doesNotContain("not readable").contains("<li value=\"3000\">").contains("<li value=\"2981\">")
                    .doesNotContain("<li value=\"2980\">").contains("failure 2981 xxx");
        } finally {
            db.execute("DELETE FROM pgpubsub.notification WHERE channel = 'long_history'");
        }
    }

    /** The overview lists the first 200 channels by name, and says that more exist. */
    @Test
    void theOverviewListsAtMostItsCapOfChannels() throws Exception {
        int channels = ConsoleQueries.MAX_CHANNELS + 5;
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason)"
                + " SELECT 8000 + g, 'many_' || lpad(g::text, 4, '0'), '{}', now(), 1, 'failed'"
                + " FROM generate_series(1, " + channels + ") g");
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            ConsoleQueries.Overview overview = queries().overview(c, Long.MAX_VALUE);
            c.rollback();
            assertThat(overview.channels()).hasSize(ConsoleQueries.MAX_CHANNELS);
            assertThat(overview.channels().get(ConsoleQueries.MAX_CHANNELS - 1).name()).isEqualTo("many_0200");
            assertThat(overview.cut()).isEqualTo("Only the first " + ConsoleQueries.MAX_CHANNELS + " channels by name are shown.");
        } finally {
            db.execute("DELETE FROM pgpubsub.dead_letter WHERE channel LIKE 'many\\_%'");
        }
    }

    /**
     * The overview ends by its deadline: reading that waits (here on a lock) is stopped when the time
     * left runs out, what is left is left out and said so, and the page's transaction goes on.
     */
    @Test
    void theOverviewStopsAtItsDeadlineAndShowsWhatItCounted() throws Exception {
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason) VALUES"
                + " (8501, 'deadline_a', '{}', now(), 1, 'failed'), (8502, 'deadline_b', '{}', now(), 1, 'failed')");
        try (Connection locker = db.dataSource().getConnection(); Connection c = db.dataSource().getConnection()) {
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
                s.execute("LOCK TABLE pgpubsub.notification IN ACCESS EXCLUSIVE MODE");
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET TRANSACTION READ ONLY");
            }
            long started = System.nanoTime();
            ConsoleQueries.Overview overview = queries().overview(c, System.currentTimeMillis() + 1_000);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("stopped by the deadline, not the 10 s timeout")
                    .isLessThan(Duration.ofSeconds(9));
            assertThat(overview.channels()).isEmpty();
            assertThat(overview.cut()).startsWith("The channels are left out: the page took longer than");
            try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT count(*) FROM pgpubsub.dead_letter")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the page's transaction goes on after the cut").isPositive();
            }
            c.rollback();
            locker.rollback();
        } finally {
            db.execute("DELETE FROM pgpubsub.dead_letter WHERE id IN (8501, 8502)");
        }
    }

    private static ConsoleQueries queries() {
        return new ConsoleQueries("pgpubsub", ConsoleCommand.STATEMENT_TIMEOUT);
    }

    /**
     * Retrying is counted among the first 10,000 tasks waiting for a later run_at: exact below that,
     * a lower bound marked with a + above it (no index covers attempts, so a channel of a million
     * delayed tasks is not read whole for it).
     */
    @Test
    void theRetryingCountIsExactOrALowerBound() throws Exception {
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at, attempts)"
                + " SELECT 'retry_bound', '{}', now() + interval '1 hour', 2 FROM generate_series(1, 3)");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at)"
                + " SELECT 'retry_bound', '{}', now() + interval '2 hours' FROM generate_series(1, "
                + ConsoleQueries.COUNT_CAP + ")");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at, attempts)"
                + " SELECT 'retry_bound', '{}', now() + interval '3 hours', 1 FROM generate_series(1, 2)");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload, run_at, attempts)"
                + " SELECT 'retry_exact', '{}', now() + interval '1 hour', g % 2 FROM generate_series(1, 10) g");
        try (RunningConsole console = new RunningConsole(db, false, dir)) {
            String page = http.get(console.base() + "/").body();
            assertThat(row(page, "retry_bound")).contains("<td class=\"pending\">10,000+</td>")
                    .contains("<td class=\"retrying\">3+</td>");
            assertThat(row(page, "retry_exact")).contains("<td class=\"pending\">10</td>")
                    .contains("<td class=\"retrying\">5</td>");
        } finally {
            db.execute("DELETE FROM pgpubsub.notification WHERE channel IN ('retry_bound', 'retry_exact')");
        }
    }

    private static String row(String page, String channel) {
        int start = page.indexOf("<tr data-channel=\"" + channel + "\">");
        assertThat(start).as("a row for " + channel).isNotNegative();
        return page.substring(start, page.indexOf("</tr>", start));
    }

    /** Follows the "next" links from {@code first}, collecting the ids {@code row} finds, page after page. */
    private List<Long> walk(String base, String first, Pattern row) throws Exception {
        List<Long> ids = new ArrayList<>();
        String path = first;
        for (int pages = 0; path != null; pages++) {
            assertThat(pages).as("pages followed").isLessThan(10);
            String body = http.get(base + path).body();
            row.matcher(body).results().map(m -> Long.valueOf(m.group(1))).forEach(ids::add);
            Matcher next = NEXT.matcher(body);
            path = next.find() ? unescape(next.group(1)) : null;
        }
        return ids;
    }

    private static String unescape(String html) {
        return ENTITY.matcher(html).replaceAll(m -> {
            String e = m.group(1);
            String text = switch (e) {
                case "amp" -> "&";
                case "quot" -> "\"";
                case "lt" -> "<";
                case "gt" -> ">";
                default -> String.valueOf((char) (e.startsWith("#x") ? Integer.parseInt(e.substring(2), 16)
                        : Integer.parseInt(e.substring(1))));
            };
            return Matcher.quoteReplacement(text);
        });
    }
}
