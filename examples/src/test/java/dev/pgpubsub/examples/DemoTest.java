package dev.pgpubsub.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The demo, scaled down: a backlog drained by recovery and live orders, each invoiced exactly once. */
@PostgresTest
class DemoTest {

    @Test
    void everyOrderOfTheBacklogAndTheLiveStreamGetsExactlyOneInvoice(TestDatabase db) throws Exception {
        Demo.Options options = new Demo.Options(db.jdbcUrl() + "?user=" + db.user(), 3_000, 2, 100);
        Demo.Summary summary = Demo.run(options, db.dataSource());
        assertThat(summary.tasks()).isEqualTo(3_200);
        assertThat(summary.invoices()).isEqualTo(3_200);
        assertThat(summary.distinctInvoices()).isEqualTo(3_200);
        assertThat(summary.pending()).isZero();
        assertThat(summary.exactlyOnce()).isTrue();
        assertThat(summary.liveTasks()).isEqualTo(200);
        assertThat(summary.p50Millis()).isPositive().isLessThanOrEqualTo(summary.p99Millis());
        assertThat(summary.recoveryRowsPerSecond()).isPositive();
    }

    /**
     * Run on a database of the user's, the demo dropped and re-created whatever tables were named
     * {@code invoice} and {@code shop_order}, and served the channel {@code orders}.
     */
    @Test
    void onTheUsersDatabaseItKeepsToItsOwnSchemaAndChannel(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("DROP TABLE IF EXISTS public.invoice, public.shop_order");
        db.execute("CREATE TABLE public.invoice (number text PRIMARY KEY, customer text)");
        db.execute("INSERT INTO public.invoice VALUES ('2026-0001', 'Ada')");
        db.execute("CREATE TABLE public.shop_order (id bigint PRIMARY KEY)");
        db.execute("INSERT INTO public.shop_order VALUES (42)");
        db.execute("DROP SCHEMA IF EXISTS pgpubsub_demo CASCADE");
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('orders', '{\"theirs\": true}')");
        String history = "SELECT string_agg(version || ' ' || installed_on, ', ' ORDER BY installed_rank) "
                + "FROM pgpubsub.flyway_schema_history";
        List<String> applicationsInstallation = db.strings(history);
        try {
            Demo.Summary summary = Demo.run(new Demo.Options(db.jdbcUrl() + "?user=" + db.user(), 300, 1, 50),
                    db.dataSource());

            assertThat(summary.exactlyOnce()).isTrue();
            assertThat(summary.invoices()).isEqualTo(350);
            assertThat(db.strings("SELECT number || ' ' || customer FROM public.invoice")).containsExactly("2026-0001 Ada");
            assertThat(db.strings("SELECT id::text FROM public.shop_order")).containsExactly("42");
            assertThat(db.number("SELECT count(*) FROM pgpubsub_demo.invoice")).isEqualTo(350);
            assertThat(db.strings("SELECT payload::text FROM pgpubsub.notification WHERE channel = 'orders'"))
                    .containsExactly("{\"theirs\": true}");
            // Its pgpubsub is its own: the application's installation is neither used nor upgraded.
            assertThat(db.number("SELECT count(*) FROM pgpubsub_demo_bus.flyway_schema_history WHERE success")).isPositive();
            assertThat(db.strings(history)).isEqualTo(applicationsInstallation);
        } finally {
            db.execute("DELETE FROM pgpubsub.notification WHERE channel = 'orders'");
            db.execute("DROP TABLE public.invoice, public.shop_order");
        }
    }

    /** {@code --dead-letters N}: N dead letters on the demo's channels, each with a reason and its errors. */
    @Test
    void deadLettersSeedsThemAfterTheRunAndReplacesThoseOfAnEarlierRun(TestDatabase db) throws Exception {
        Demo.Options options = Demo.Options.parse(new String[] {db.jdbcUrl() + "?user=" + db.user(), "--backlog", "200",
            "--live-seconds", "1", "--rate", "20", "--dead-letters", "120"});
        assertThat(options.keepRunning()).isFalse();
        Demo.Summary summary = Demo.run(options, db.dataSource());
        assertThat(summary.exactlyOnce()).isTrue();
        assertThat(summary.deadLetters()).isEqualTo(120);
        String dead = "SELECT count(*) FROM pgpubsub_demo_bus.dead_letter";
        assertThat(db.number(dead)).isEqualTo(120);
        assertThat(db.number(dead + " WHERE reason = '' OR attempts < 1 OR jsonb_array_length(errors) <> attempts")).isZero();
        assertThat(db.strings("SELECT DISTINCT channel FROM pgpubsub_demo_bus.dead_letter ORDER BY channel"))
                .containsExactly("pgpubsub_demo_emails", "pgpubsub_demo_orders", "pgpubsub_demo_shipping");
        assertThat(db.number(dead + " WHERE payload::text LIKE '%<script>%'")).isBetween(1L, 5L);
        assertThat(db.number(dead + " WHERE id IN (SELECT id FROM pgpubsub_demo_bus.notification)")).isZero();

        Demo.seedDeadLetters(db.dataSource(), 7);
        assertThat(db.number(dead)).isEqualTo(7);
    }

    @Test
    void badArgumentsAreRefusedInsteadOfTakenForTheUrl() {
        assertThat(Demo.Options.parse(new String[] {"--dead-letters", "100000", "--keep-running"}))
                .isEqualTo(new Demo.Options(null, 100_000, 5, 500, 100_000, true));
        assertThat(Demo.Options.parse(new String[] {"jdbc:postgresql://h/db", "--backlog", "10", "--rate", "5"}))
                .isEqualTo(new Demo.Options("jdbc:postgresql://h/db", 10, 5, 5));
        assertThat(Demo.Options.parse(new String[0])).isEqualTo(new Demo.Options(null, 100_000, 5, 500));
        for (String[] bad : new String[][] {{"--backlgo", "10"}, {"--backlog"}, {"--rate", "fast"}, {"--rate", "0"}, {"--dead-letters", "-1"},
                {"postgres://h/db"}}) {
            assertThatThrownBy(() -> Demo.Options.parse(bad)).as(String.join(" ", bad))
                    .isInstanceOf(CommandLine.ParameterException.class);
        }
    }
}
