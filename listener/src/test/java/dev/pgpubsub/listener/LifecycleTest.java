package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.PgPubSubException;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.core.internal.SchemaMigrator;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.listener.internal.WorkerConnections;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Starting, stopping, and what is checked at start. */
@PostgresTest
class LifecycleTest {

    private final TestDatabase db;

    LifecycleTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
    }

    /** An operator matches each session in pg_stat_activity to its process: its name says pid and host. */
    @Test
    void everySessionOfAListenerNamesItsRoleAndItsProcess() throws Exception {
        String mine = " " + ProcessHandle.current().pid() + "@";
        try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
            Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> listener.stats().tasksDone() == 1);
            List<String> names = db.strings("SELECT application_name FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND application_name LIKE 'pgpubsub-%' ORDER BY 1");
            assertThat(names).anyMatch(n -> n.matches("pgpubsub-\\d+-listen \\d+@.+"))
                    .anyMatch(n -> n.matches("pgpubsub-\\d+-worker \\d+@.+"))
                    .allMatch(n -> n.contains(mine));
        }
    }

    @Test
    void startingAndClosingFiftyTimesLeaksNoConnectionOrThread() throws Exception {
        String sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
        long sessionsBefore = count(db, sessions);
        for (int i = 0; i < 50; i++) {
            try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start()) {
                if (i % 10 == 0) {
                    Publisher.create().publish(db.dataSource(), ORDERS, new Order(i));
                    await().atMost(AWAIT).until(() -> listener.stats().tasksDone() == 1);
                }
            }
        }
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(5);
        await().atMost(AWAIT).until(() -> count(db, sessions) == sessionsBefore);
        await().atMost(AWAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("pgpubsub-") && t.isAlive()));
    }

    @Test
    void closeLetsARunningHandlerFinishWithinTheGracePeriod() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Listener listener = listenerFor(db).shutdownGrace(Duration.ofSeconds(30)).on(ORDERS, (o, ctx) -> {
            started.countDown();
            Thread.sleep(500); // a handler that takes a while
            recordHandled(ctx, o.n(), "slow");
        }).start();
        Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
        assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
        listener.close();
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(1);
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void closeRollsBackAHandlerStillRunningAfterTheGracePeriodAndMakesItsTaskDueAtOnce() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Listener listener = listenerFor(db).shutdownGrace(Duration.ofMillis(200)).on(ORDERS, (o, ctx) -> {
            recordHandled(ctx, o.n(), "stuck");
            started.countDown();
            release.await(60, TimeUnit.SECONDS);
        }).start();
        Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
        assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
        Fixtures.TimedClose close = Fixtures.timeClose(listener, Duration.ofSeconds(5));
        release.countDown();
        assertThat(close.took()).as(close::describe).isLessThan(Duration.ofSeconds(10));
        assertThat(count(db, "SELECT count(*) FROM handled")).isZero();
        // Released: due again at once, the attempt not counted (the stop, not the task, ended it).
        assertThat(Fixtures.strings(db, "SELECT attempts || ' ' || (run_at <= now()) FROM pgpubsub.notification"))
                .containsExactly("0 true");
    }

    /**
     * A handler that ignores the interrupt and outlasts the grace: its transaction is aborted, and
     * close() does not wait for it much longer, so that a container's shutdown phase (the grace and
     * a little more) is enough.
     */
    @Test
    void closeEndsSoonAfterTheGraceEvenWhenAHandlerIgnoresTheInterrupt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Listener listener = listenerFor(db).shutdownGrace(Duration.ofMillis(200)).on(ORDERS, (o, ctx) -> {
            recordHandled(ctx, o.n(), "deaf");
            started.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (release.getCount() > 0 && System.nanoTime() < deadline) {
                try {
                    release.await(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException ignored) {
                    // deaf to the shutdown
                }
            }
        }).start();
        Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
        assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
        try {
            Fixtures.TimedClose close = Fixtures.timeClose(listener, Duration.ofSeconds(3));
            assertThat(close.took()).as(close::describe).isLessThan(Duration.ofSeconds(4));
        } finally {
            release.countDown();
        }
        assertThat(count(db, "SELECT count(*) FROM handled")).isZero();
        assertThat(Fixtures.strings(db, "SELECT attempts || ' ' || (run_at <= now()) FROM pgpubsub.notification"))
                .containsExactly("0 true");
    }

    @Test
    void aPoolTooSmallForTheWorkersIsRefusedAtStart() {
        HikariConfig config = new HikariConfig();
        config.setDataSource(db.dataSource());
        config.setMaximumPoolSize(3);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Listener listener = listenerFor(db).dataSource(pool).workers(4).on(ORDERS, (o, ctx) -> { }).build();
            assertThatThrownBy(listener::start)
                    .isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("at most 3 connections")
                    .hasMessageContaining("needs 6 (4 workers, 1 for start-up recovery and 1 for bookkeeping)")
                    .hasMessageContaining("maximumPoolSize to at least 6");
        }
    }

    @Test
    void theSchedulesTimerThreadCountsOneConnectionMoreInThePool() {
        HikariConfig config = new HikariConfig();
        config.setDataSource(db.dataSource());
        config.setMaximumPoolSize(6);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Listener listener = listenerFor(db).dataSource(pool).workers(4).on(ORDERS, (o, ctx) -> { })
                    .schedule(Schedule.every("tick", Duration.ofHours(1)).publish("ticks", "{}")).build();
            assertThatThrownBy(listener::start)
                    .isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("at most 6 connections")
                    .hasMessageContaining("needs 7 (4 workers, 1 for start-up recovery, 1 for bookkeeping and 1 for the schedules)")
                    .hasMessageContaining("maximumPoolSize to at least 7");
        }
        try (WorkerConnections own = WorkerConnections.open(null, db.jdbcUrl(), db.user(), db.password(), 4, true, "t");
                WorkerConnections without = WorkerConnections.open(null, db.jdbcUrl(), db.user(), db.password(), 4, false, "t")) {
            // What the listener needs, and one for the heartbeat.
            assertThat(((HikariDataSource) own.dataSource()).getMaximumPoolSize()).isEqualTo(8);
            assertThat(((HikariDataSource) without.dataSource()).getMaximumPoolSize()).isEqualTo(7);
        }
    }

    @Test
    void aPoolWhoseTransactionsAreNotReadCommittedIsRefusedAtStart() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.setMaximumPoolSize(6);
        config.setTransactionIsolation("TRANSACTION_REPEATABLE_READ");
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Listener listener = listenerFor(db).dataSource(pool).workers(4).on(ORDERS, (o, ctx) -> { }).build();
            assertThatThrownBy(listener::start).isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("'repeatable read'").hasMessageContaining("TRANSACTION_READ_COMMITTED");
        }
    }

    @Test
    void anApplicationPoolThatIsLargeEnoughServesTheWorkers() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setDataSource(db.dataSource());
        config.setMaximumPoolSize(6);
        try (HikariDataSource pool = new HikariDataSource(config);
                Listener listener = listenerFor(db).dataSource(pool).workers(4)
                        .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "pooled")).start()) {
            Publisher.create().publish(db.dataSource(), ORDERS, new Order(1));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            assertThat(listener.stats().tasksDone()).isEqualTo(1);
        }
    }

    @Test
    void aDatabaseWithoutTheSchemaIsRefusedSayingHowToInstallIt(PostgresServer server) {
        try (TestDatabase empty = server.createDatabase("no_schema")) {
            Listener listener = Listener.builder().jdbcUrl(empty.jdbcUrl()).user(empty.user())
                    .on(ORDERS, (o, ctx) -> { }).build();
            assertThatThrownBy(listener::start)
                    .isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("not installed in schema 'pgpubsub'")
                    .hasMessageContaining("PgPubSub.migrate(dataSource)");
        }
    }

    /** An installation older than the listener is refused with the fix; once migrated, its tasks are handled. */
    @Test
    void aSchemaOlderThanTheListenerIsRefusedSayingHowToUpgradeAndItsTasksSurviveTheUpgrade(PostgresServer server)
            throws Exception {
        try (TestDatabase old = server.createDatabase("schema_v9")) {
            Flyway.configure(SchemaMigrator.class.getClassLoader()).dataSource(old.dataSource()).schemas("pgpubsub")
                    .defaultSchema("pgpubsub").createSchemas(true).table(SchemaMigrator.HISTORY_TABLE)
                    .locations(SchemaMigrator.LOCATION).placeholders(SchemaMigrator.placeholders("pgpubsub"))
                    .target("9").load().migrate();
            old.execute("CREATE TABLE handled (task_id bigint NOT NULL, n bigint NOT NULL, attempt int NOT NULL, by text)");
            old.execute("SELECT pgpubsub.publish('orders', '{\"n\": 1}')");
            Listener listener = Listener.builder().jdbcUrl(old.jdbcUrl()).user(old.user())
                    .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "upgraded")).build();
            assertThatThrownBy(listener::start)
                    .isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("pgpubsub in schema 'pgpubsub' is older than this listener")
                    .hasMessageContaining("PgPubSub.migrate(dataSource)");

            assertThat(PgPubSub.migrate(old.dataSource())).isEqualTo(1);
            try (Listener upgraded = Listener.builder().jdbcUrl(old.jdbcUrl()).user(old.user())
                    .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "upgraded")).start()) {
                await().atMost(AWAIT).until(() -> count(old, "SELECT count(*) FROM handled") == 1);
            }
        }
    }

    @Test
    void anUnknownDatabaseIsReportedClearlyAndAtOnce(PostgresServer server) {
        Listener listener = Listener.builder().jdbcUrl("jdbc:postgresql://localhost:" + server.port() + "/no_such_db")
                .user(server.user()).outageLimit(Duration.ofMinutes(10)).on(ORDERS, (o, ctx) -> { }).build();
        try (StartupLog log = StartupLog.capture()) {
            assertThatThrownBy(listener::start)
                    .isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("no_such_db");
            assertThat(log.retries()).as("retries of a failure that only a change of settings mends").isEmpty();
        }
    }

    /**
     * Postgres refuses sessions while it is down or starting (SQLSTATE 08001, 57P03): start-up tries
     * again within the outage limit, like any later outage, instead of failing at once.
     */
    @Test
    void aListenerStartedWhileTheServerIsDownStartsWhenItComesBack(EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase own = server.createDatabase("start_in_outage"); StartupLog log = StartupLog.capture()) {
            Fixtures.reset(own);
            server.stop();
            CompletableFuture<Listener> starting;
            try {
                starting = CompletableFuture.supplyAsync(() -> listenerFor(own).outageLimit(Duration.ofMinutes(2))
                        .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start());
                await().atMost(AWAIT).until(() -> log.retries().size() >= 2);
            } finally {
                server.start();
            }
            try (Listener listener = starting.get(AWAIT.toSeconds(), TimeUnit.SECONDS)) {
                Fixtures.publishOrders(own, 0, 2);
                await().atMost(AWAIT).until(() -> count(own, "SELECT count(*) FROM handled") == 2);
            }
            assertThat(log.retries().get(0)).contains("could not connect").contains("trying again in");
        }
    }

    @Test
    void aServerThatStaysDownFailsTheStartAfterTheOutageLimit(EmbeddedPostgresServer server) {
        try (StartupLog log = StartupLog.capture()) {
            Listener listener = Listener.builder().jdbcUrl("jdbc:postgresql://localhost:" + closedPort() + "/shop")
                    .user(server.user()).outageLimit(Duration.ofSeconds(3)).on(ORDERS, (o, ctx) -> { }).build();
            long start = System.nanoTime();
            assertThatThrownBy(listener::start).isInstanceOf(PgPubSubException.class).hasMessageContaining("Could not connect");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
            assertThat(log.retries()).isNotEmpty();
        }
    }

    private static int closedPort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The start-up's WARN lines, caught from its logger. */
    private static final class StartupLog implements AutoCloseable {
        private final ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(dev.pgpubsub.listener.internal.ListenerRuntime.class);
        private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();

        static StartupLog capture() {
            StartupLog log = new StartupLog();
            log.appender.start();
            log.logger.addAppender(log.appender);
            return log;
        }

        List<String> retries() {
            synchronized (appender) {
                return appender.list.stream().map(e -> e.getFormattedMessage()).filter(m -> m.contains("trying again")).toList();
            }
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
        }
    }

    @Test
    void aListenerStartsOnlyOnce() {
        try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> { }).start()) {
            assertThatThrownBy(listener::start).hasMessageContaining("already started");
        }
    }
}
