package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.listener.internal.WorkerConnections;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Behind a pooler in transaction mode a session setting lands on whichever server connection ran it
 * and stays there for other clients. The library therefore sets nothing beyond its own transactions.
 */
@PostgresTest
class SessionSettingsTest {

    /** A session-level SET or RESET (SET LOCAL, SET TRANSACTION and set_config(..., true) are transaction-local). */
    private static final Pattern SESSION_SETTING = Pattern.compile("(?is)^\\s*(RESET\\b|SET\\s+(?!(LOCAL|TRANSACTION)\\b)).*");

    private final TestDatabase db;

    SessionSettingsTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    @Test
    void noLibraryPathLeavesASessionSettingOnAPooledConnection() throws Exception {
        Queue<String> sent = new ConcurrentLinkedQueue<>();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.setMaximumPoolSize(4);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            DataSource recording = recording(pool, sent);
            Fixtures.publishOrders(db, 1, 41); // a backlog: start-up recovery runs
            RetryPolicy twice = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(50), 0.2);
            try (Listener listener = listenerFor(db).dataSource(recording).workers(2).batchSize(10).retryPolicy(twice)
                    .on(ORDERS, (o, ctx) -> {
                        if (o.n() % 10 == 0) {
                            throw new IllegalStateException("fails: its batch is redone, it ends in the dead letters");
                        }
                        recordHandled(ctx, o.n(), "x");
                    }).start()) {
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 4
                        && count(db, "SELECT count(*) FROM handled") == 36);
                Fixtures.publishOrders(db, 41, 51); // and the claim loop
                await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 45);
                assertThat(listener.stats().recoveredTasks()).isPositive();
            }
            assertThat(sent).as("statements the library sent").isNotEmpty()
                    .noneMatch(sql -> SESSION_SETTING.matcher(sql).matches());
            // And every pooled session shows the server's defaults.
            List<Connection> all = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    all.add(pool.getConnection());
                }
                for (Connection c : all) {
                    assertThat(show(c, "statement_timeout")).isEqualTo("0");
                    assertThat(show(c, "idle_in_transaction_session_timeout")).isEqualTo("0");
                }
            } finally {
                for (Connection c : all) {
                    c.close();
                }
            }
        }
    }

    @Test
    void theListenersOwnPoolOpensConnectionsWithoutSessionSettings() throws Exception {
        try (WorkerConnections own = WorkerConnections.open(null, db.jdbcUrl(), db.user(), db.password(), 1, false, "t")) {
            assertThat(((HikariDataSource) own.dataSource()).getConnectionInitSql()).isNull();
            try (Connection c = own.dataSource().getConnection()) {
                assertThat(show(c, "statement_timeout")).isEqualTo("0");
                c.rollback();
            }
        }
    }

    private static String show(Connection c, String setting) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Records the SQL of every statement made through its connections. */
    private static DataSource recording(DataSource target, Queue<String> sent) {
        return (DataSource) Proxy.newProxyInstance(SessionSettingsTest.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(target, method, args);
                    return result instanceof Connection c ? recording(c, sent) : result;
                });
    }

    private static Connection recording(Connection target, Queue<String> sent) {
        return (Connection) Proxy.newProxyInstance(SessionSettingsTest.class.getClassLoader(),
                new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().startsWith("prepare") && args != null && args[0] instanceof String sql) {
                        sent.add(sql);
                    }
                    Object result = invoke(target, method, args);
                    if (result instanceof Statement s && !(result instanceof java.sql.PreparedStatement)) {
                        return recording(s, sent);
                    }
                    return result;
                });
    }

    private static Statement recording(Statement target, Queue<String> sent) {
        return (Statement) Proxy.newProxyInstance(SessionSettingsTest.class.getClassLoader(),
                new Class<?>[] {Statement.class}, (proxy, method, args) -> {
                    if ((method.getName().startsWith("execute") || method.getName().equals("addBatch")) && args != null
                            && args.length > 0 && args[0] instanceof String sql) {
                        sent.add(sql);
                    }
                    return invoke(target, method, args);
                });
    }

    private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
