package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.EmbeddedPostgresServer;
import dev.pgpubsub.testing.PgBouncer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A poll-only listener behind a real PgBouncer in transaction pooling mode, started by the test in
 * front of an embedded Postgres (see {@link PgBouncer}: installed on CI, where this test never skips).
 * PgBouncer logs in to the server as a role of its own, so that its server connections can be told
 * apart; its pools are smaller than the number of client connections, so server connections pass
 * from client to client. The listener's URL carries {@code prepareThreshold=0}.
 */
@PostgresTest
class PgBouncerTest {

    /** The role PgBouncer logs in to the server as; only PgBouncer's server connections have it. */
    private static final String SERVER_USER = "pgbouncer_server";
    private static final int TASKS = 3_000;
    private static final Duration DRAIN = Duration.ofMinutes(3);
    private static final RetryPolicy QUICK = new RetryPolicy(25, Duration.ofMillis(50), Duration.ofMillis(500), 0.2);
    private static final String TERMINATE = "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            + "WHERE usename = '" + SERVER_USER + "' AND datname = current_database()";
    /**
     * The settings PgBouncer itself sets on a server connection (with SET) when it hands it to a
     * client whose start-up parameters differ; everything else a session shows as set by SET was set
     * by a client, and stays for the next one.
     */
    private static final String TRACKED_BY_PGBOUNCER =
            "'application_name', 'client_encoding', 'DateStyle', 'TimeZone', 'standard_conforming_strings', 'IntervalStyle'";

    @BeforeAll
    static void serverRole(EmbeddedPostgresServer server) throws SQLException {
        try (Connection c = server.connect(server.adminDatabase()); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + SERVER_USER + " LOGIN SUPERUSER");
        }
    }

    /**
     * (1) Exactly once through transaction pooling, with faults: four workers claim through a pool
     * of four server connections (six client connections: the workers, start-up recovery and
     * bookkeeping), a third of the tasks waiting at start (start-up recovery) and the rest published
     * through PgBouncer while the listener runs; the server connections PgBouncer holds are
     * terminated every 200 ms, mid-handler, on a direct connection. The ledger: every task's effect
     * committed exactly once, nothing left, no dead letter. (No handler fails here but by losing its
     * connection, which frees its server connection: the pool may be smaller than workers + 2.)
     */
    @Test
    void everyTaskRunsExactlyOnceThroughTransactionPoolingWhileItsServerConnectionsAreTerminated(
            EmbeddedPostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("bouncer_faults");
                PgBouncer bouncer = PgBouncer.inFrontOf(server).serverUser(SERVER_USER).defaultPoolSize(4)
                        .start(directory("faults"))) {
            Fixtures.reset(db);
            DataSource viaBouncer = bouncer.dataSource(db.name(), db.user());
            publish(viaBouncer, 0, TASKS / 3);
            long started = System.nanoTime();
            long terminated;
            long recovered;
            try (Listener listener = Listener.builder().jdbcUrl(bouncer.jdbcUrl(db.name())).user(db.user())
                    .pollOnly(true).pollInterval(Duration.ofMillis(200)).workers(4).batchSize(20).retryPolicy(QUICK)
                    .on(ORDERS, (o, ctx) -> {
                        recordHandled(ctx, o.n(), "x");
                        try (Statement s = ctx.connection().createStatement()) {
                            s.execute("SELECT pg_sleep(0.001)"); // a handler that takes a moment, so that faults land mid-handler
                        }
                    }).start()) {
                publish(viaBouncer, TASKS / 3, TASKS);
                await().atMost(DRAIN).until(() -> count(db, "SELECT count(*) FROM handled") >= TASKS / 10);
                try (Chaos terminator = Chaos.every(Duration.ofMillis(200), () -> db.number(TERMINATE))) {
                    await().atMost(DRAIN).until(() -> terminator.faults() >= 10
                            || count(db, "SELECT count(DISTINCT n) FROM handled") == TASKS);
                    terminator.stop();
                    terminated = terminator.hits();
                }
                await().atMost(DRAIN).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                        .until(() -> count(db, "SELECT count(DISTINCT n) FROM handled") == TASKS
                                && count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
                recovered = listener.stats().recoveredTasks();
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("PGBOUNCER %s, transaction pooling, poll-only, 4 workers on 4 server connections: tasks=%d "
                    + "(%d by start-up recovery) server_sessions_terminated=%d run_again=%d duplicated=%d dead_letters=%d "
                    + "drained_ms=%d%n", bouncer.version(), TASKS, recovered, terminated,
                    count(db, "SELECT count(*) FROM handled WHERE attempt > 1"),
                    count(db, "SELECT count(*) - count(DISTINCT n) FROM handled"),
                    count(db, "SELECT count(*) FROM pgpubsub.dead_letter"), millis);
            assertThat(terminated).as("server sessions terminated").isPositive();
            assertThat(count(db, "SELECT count(*) FROM handled")).as("effects committed").isEqualTo(TASKS);
            assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).as("distinct tasks").isEqualTo(TASKS);
            assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isZero();
            assertThat(count(db, "SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        }
    }

    /**
     * (2) No setting of the listener's reaches another client of the pool. The database's defaults
     * for the two timeouts the library sets (transaction-locally) are made unlike anything it sets,
     * so that a leak of either shows; the listener then runs start-up recovery, claims, failures
     * and dead letters through a pool of four server connections (workers + 2, as docs/operations.md
     * asks: a failing handler's worker keeps its server connection while the release is noted on
     * another). Afterwards four clients hold a transaction each, so that between them they sit on
     * every server connection of the pool, the ones that ran the handlers included, and each sees
     * the server's defaults. A plain SET from a
     * client, made on purpose, is then found by the same check: the check can see a leak.
     */
    @Test
    void noSettingOfTheListenersReachesAnotherClientOfThePool(EmbeddedPostgresServer server) throws Exception {
        int pool = 4;
        try (TestDatabase db = server.createDatabase("bouncer_settings");
                PgBouncer bouncer = PgBouncer.inFrontOf(server).serverUser(SERVER_USER).defaultPoolSize(pool)
                        .start(directory("settings"))) {
            Fixtures.reset(db);
            db.execute("DELETE FROM pgpubsub.dead_letter");
            db.execute("ALTER DATABASE " + db.name() + " SET statement_timeout = '9min'");
            db.execute("ALTER DATABASE " + db.name() + " SET idle_in_transaction_session_timeout = '10min'");
            Session defaults;
            try (Connection direct = db.connect()) {
                direct.setAutoCommit(false);
                defaults = Session.of(direct);
                direct.rollback();
            }
            assertThat(defaults.statementTimeout()).isEqualTo("9min");
            assertThat(defaults.idleInTransactionTimeout()).isEqualTo("10min");

            DataSource viaBouncer = bouncer.dataSource(db.name(), db.user());
            publish(viaBouncer, 0, 300); // a backlog: start-up recovery runs (SET LOCAL idle_in_transaction_session_timeout)
            RetryPolicy twice = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(50), 0.2);
            try (Listener listener = Listener.builder().jdbcUrl(bouncer.jdbcUrl(db.name())).user(db.user())
                    .pollOnly(true).pollInterval(Duration.ofMillis(200)).workers(2).batchSize(10).retryPolicy(twice)
                    .handlerTimeout(Duration.ofMinutes(4)).on(ORDERS, (o, ctx) -> {
                        if (o.n() % 50 == 0) {
                            throw new IllegalStateException("fails: its batch is released, it ends in the dead letters");
                        }
                        recordHandled(ctx, o.n(), Long.toString(backendPid(ctx.connection())));
                    }).start()) {
                await().atMost(DRAIN).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 6
                        && count(db, "SELECT count(*) FROM handled") == 294);
                publish(viaBouncer, 300, 400); // and the claim loop (set_config(..., true) in the claim)
                await().atMost(DRAIN).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 8
                        && count(db, "SELECT count(*) FROM handled") == 392);
                assertThat(listener.stats().recoveredTasks()).isPositive();
            }
            assertThat(count(db, "SELECT count(*) - count(DISTINCT n) FROM handled")).isZero();
            Set<Long> handlerBackends = new HashSet<>();
            db.strings("SELECT DISTINCT by FROM handled").forEach(pid -> handlerBackends.add(Long.parseLong(pid)));

            List<Session> sessions = everyServerConnection(bouncer, db, pool);
            System.out.printf("PGBOUNCER %s: handlers ran on server backends %s; the pool's %d server connections then "
                    + "showed %s%n", bouncer.version(), handlerBackends, pool, sessions);
            assertThat(sessions).extracting(Session::pid).doesNotHaveDuplicates().containsAll(handlerBackends);
            for (Session s : sessions) {
                assertThat(s.statementTimeout()).as("statement_timeout on backend %d", s.pid()).isEqualTo(defaults.statementTimeout());
                assertThat(s.idleInTransactionTimeout()).as("idle_in_transaction_session_timeout on backend %d", s.pid())
                        .isEqualTo(defaults.idleInTransactionTimeout());
                assertThat(s.applicationName()).as("application_name on backend %d", s.pid())
                        .isEqualTo(defaults.applicationName()).doesNotStartWith("pgpubsub");
                assertThat(s.context()).as("pgpubsub.context on backend %d", s.pid()).isEmpty();
                assertThat(s.setBySession()).as("settings a client SET on backend %d", s.pid()).isEmpty();
            }

            // The check sees a leak: a client's plain SET stays on its server connection for the next client.
            try (Connection careless = bouncer.connect(db.name(), db.user()); Statement s = careless.createStatement()) {
                careless.setAutoCommit(false);
                s.execute("SET statement_timeout = '4321ms'");
                s.execute("SET pgpubsub.context = 'leaked'");
                careless.commit();
            }
            List<Session> after = everyServerConnection(bouncer, db, pool);
            assertThat(after).filteredOn(s -> s.statementTimeout().equals("4321ms")).singleElement()
                    .satisfies(s -> {
                        assertThat(s.context()).isEqualTo("leaked");
                        assertThat(s.setBySession()).contains("statement_timeout");
                    });
        }
    }

    /**
     * (3) Why the URL says {@code prepareThreshold=0}: without it the standard driver names its
     * statements on the server after a few runs ({@code S_1}, {@code S_2}, ... on every connection),
     * and through a pool in transaction mode the name lands on a server connection that another
     * client then uses. With one server connection for two clients that is certain. PgBouncer 1.21
     * and later can keep such names apart per client ({@code max_prepared_statements}); it is set
     * to 0 here, which is what older versions do.
     */
    @Test
    void withoutPrepareThresholdZeroTheDriversNamedStatementsCollideOnASharedServerConnection(
            EmbeddedPostgresServer server) throws Exception {
        PgBouncer.Builder builder = PgBouncer.inFrontOf(server).serverUser(SERVER_USER).defaultPoolSize(1);
        if (PgBouncer.tracksPreparedStatements(PgBouncer.version(PgBouncer.executable()))) {
            builder.setting("max_prepared_statements", "0");
        }
        try (TestDatabase db = server.createDatabase("bouncer_prepared"); PgBouncer bouncer = builder.start(directory("prepared"))) {
            String driverDefaults = bouncer.jdbcUrl(db.name()).replace("?prepareThreshold=0", "");
            try (Connection a = DriverManager.getConnection(driverDefaults, db.user(), "");
                    Connection b = DriverManager.getConnection(driverDefaults, db.user(), "")) {
                runTenTimes(a);
                assertThatThrownBy(() -> runTenTimes(b)).isInstanceOf(SQLException.class)
                        .hasMessageContaining("prepared statement \"S_1\" already exists");
            }
            try (Connection a = bouncer.connect(db.name(), db.user()); Connection b = bouncer.connect(db.name(), db.user())) {
                assertThat(runTenTimes(a) + runTenTimes(b)).isEqualTo(20);
            }
        }
    }

    /** Runs one prepared statement ten times, each in a transaction of its own; returns how often it ran. */
    private static int runTenTimes(Connection c) throws SQLException {
        int ran = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1")) {
            for (int i = 0; i < 10; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    ran += rs.getInt(1);
                }
            }
        }
        return ran;
    }

    /** What one session shows of the settings in question. */
    private record Session(long pid, String statementTimeout, String idleInTransactionTimeout, String applicationName,
            String context, String setBySession) {

        static Session of(Connection c) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid(),"
                    + " current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'),"
                    + " current_setting('application_name'), coalesce(current_setting('pgpubsub.context', true), ''),"
                    + " coalesce((SELECT string_agg(name, ',' ORDER BY name) FROM pg_settings WHERE source = 'session'"
                    + " AND name NOT IN (" + TRACKED_BY_PGBOUNCER + ")), '')")) {
                rs.next();
                return new Session(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6));
            }
        }
    }

    /**
     * Opens {@code pool} clients through PgBouncer and has each hold a transaction while the others
     * look: PgBouncer never has more than {@code pool} server connections for the database, so
     * between them they sit on every one.
     */
    private static List<Session> everyServerConnection(PgBouncer bouncer, TestDatabase db, int pool) throws SQLException {
        List<Connection> clients = new ArrayList<>();
        try {
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < pool; i++) {
                Connection c = bouncer.connect(db.name(), db.user());
                clients.add(c);
                c.setAutoCommit(false);
                sessions.add(Session.of(c));
            }
            return sessions;
        } finally {
            for (Connection c : clients) {
                c.rollback();
                c.close();
            }
        }
    }

    private static long backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Publishes tasks {@code from..to-1} in transactions of 100. */
    private static void publish(DataSource dataSource, long from, long to) {
        Publisher publisher = Publisher.create();
        for (long at = from; at < to; at += 100) {
            List<Order> orders = LongStream.range(at, Math.min(to, at + 100)).mapToObj(Order::new).toList();
            publisher.inNewTransaction(dataSource, (tx, c) -> tx.publishAll(ORDERS, orders));
        }
    }

    private static Path directory(String name) {
        return Path.of("target", "pgbouncer-" + name).toAbsolutePath();
    }
}
