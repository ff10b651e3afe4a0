package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Schedule;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Schedules in a real Spring context on a real Postgres: {@link Schedule} beans and
 * {@code pgpubsub.schedules.*} properties are published by the starter's listener. Their channels
 * have no handler, so the tasks stay in the table.
 */
@PostgresTest
class SchedulesTest {

    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    private final TestDatabase db;

    SchedulesTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.schedule");
    }

    private ApplicationContextRunner app() {
        return TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class);
    }

    private long tasks(String channel) throws SQLException {
        return db.number("SELECT count(*) FROM pgpubsub.notification WHERE channel = '" + channel + "'");
    }

    @Test
    void scheduleBeansAndSchedulePropertiesArePublishedToTheirChannels() {
        app().withBean("heartbeat", Schedule.class,
                        () -> Schedule.every("heartbeat", Duration.ofSeconds(1)).publish("heartbeats", "{\"from\": \"bean\"}"))
                .withPropertyValues("pgpubsub.schedules.tick.every=1s", "pgpubsub.schedules.tick.channel=ticks",
                        "pgpubsub.schedules.tick.payload={\"from\": \"properties\"}",
                        "pgpubsub.schedules[orders_report].cron=0 6 * * *",
                        "pgpubsub.schedules[orders_report].zone=Europe/Paris",
                        "pgpubsub.schedules[orders_report].channel=reports",
                        "pgpubsub.schedules[orders_report].catch-up=true")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    await().atMost(AWAIT).until(() -> tasks("ticks") >= 2 && tasks("heartbeats") >= 2);
                    assertThat(db.strings("SELECT DISTINCT channel || ' ' || payload::text FROM pgpubsub.notification "
                            // Not the daily report's channel: for a minute after 06:00 in Paris its slot is due.
                            + "WHERE channel IN ('heartbeats', 'ticks') ORDER BY 1")).containsExactly("heartbeats {\"from\": \"bean\"}", "ticks {\"from\": \"properties\"}");
                    assertThat(db.strings("SELECT name || ' ' || channel || ' ' || definition || ' ' || (next_slot IS NOT NULL) "
                            + "FROM pgpubsub.schedule ORDER BY name")).containsExactly(
                            "heartbeat heartbeats every PT1S true",
                            "orders_report reports cron \"0 6 * * *\" in Europe/Paris true",
                            "tick ticks every PT1S true");
                });
    }

    @Test
    void anInvalidScheduleFailsStartUpNamingItsProperty() {
        app().withPropertyValues("pgpubsub.schedules.report.cron=0 25 * * *", "pgpubsub.schedules.report.channel=reports")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("The pgpubsub schedule property pgpubsub.schedules.report.cron is refused: "
                                + "Schedule 'report': cron expression \"0 25 * * *\" is not valid"));
        app().withPropertyValues("pgpubsub.schedules.report.cron=0 6 * * *", "pgpubsub.schedules.report.zone=Mars/Olympus",
                        "pgpubsub.schedules.report.channel=reports")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("pgpubsub.schedules.report.zone is refused")
                        .hasStackTraceContaining("time zone \"Mars/Olympus\" is not known"));
        app().withPropertyValues("pgpubsub.schedules.report.every=1h")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("Schedule 'report' has no channel: set pgpubsub.schedules.report.channel"));
        app().withPropertyValues("pgpubsub.schedules.report.every=1h", "pgpubsub.schedules.report.cron=0 6 * * *",
                        "pgpubsub.schedules.report.channel=reports")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("needs exactly one of pgpubsub.schedules.report.cron"));
        app().withBean("report", Schedule.class, () -> Schedule.every("report", Duration.ofHours(1)).publish("reports", "{}"))
                .withPropertyValues("pgpubsub.schedules.report.every=1h", "pgpubsub.schedules.report.channel=reports")
                .run(context -> assertThat(context).hasFailed().getFailure()
                        .hasStackTraceContaining("Two schedules are named 'report'"));
    }
}
