package dev.pgpubsub.spring;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.Channel;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** What the starter's tests share: payloads, channels, a side table, and context runners on a test database. */
final class TestApps {

    record Order(long n) {
    }

    record Invoice(long n) {
    }

    static final Channel<Order> ORDERS = Channel.of("orders", Order.class);
    static final Channel<Invoice> INVOICES = Channel.of("invoices", Invoice.class);
    static final Duration AWAIT = Duration.ofSeconds(60);

    private TestApps() {
    }

    /** A Hikari pool on {@code db}, as an application would define it, without spring.datasource.url. */
    static HikariDataSource hikari(TestDatabase db) {
        HikariDataSource ds = new HikariDataSource();
        ds.setJdbcUrl(db.jdbcUrl());
        ds.setUsername(db.user());
        if (!db.password().isEmpty()) {
            ds.setPassword(db.password());
        }
        ds.setMaximumPoolSize(10);
        return ds;
    }

    /** The starter's auto-configuration, and quick listener settings for tests. */
    static ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(PgPubSubAutoConfiguration.class))
                .withPropertyValues("pgpubsub.listener.workers=2", "pgpubsub.listener.shutdown-grace=5s",
                        "pgpubsub.listener.retry.initial-delay=100ms");
    }

    /** A side table without a unique key, so that a duplicate shows as a second row. */
    static void createHandledTable(TestDatabase db) throws SQLException {
        db.execute("DROP TABLE IF EXISTS handled");
        db.execute("CREATE TABLE handled (task_id bigint NOT NULL, channel text NOT NULL, n bigint NOT NULL, "
                + "in_spring_tx boolean NOT NULL)");
    }

    /** A handler's effect, written in the claiming transaction: it commits exactly once. */
    static void recordHandled(TaskContext context, long n, boolean inSpringTransaction) throws SQLException {
        try (PreparedStatement ps = context.connection().prepareStatement(
                "INSERT INTO handled (task_id, channel, n, in_spring_tx) VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, context.id());
            ps.setString(2, context.channel());
            ps.setLong(3, n);
            ps.setBoolean(4, inSpringTransaction);
            ps.executeUpdate();
        }
    }

    static long count(DataSource ds, String sql) throws SQLException {
        try (var c = ds.getConnection(); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The 64-bit id of the claim transaction a handler runs in. */
    static long xid(TaskContext context) throws SQLException {
        try (Statement s = context.connection().createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
