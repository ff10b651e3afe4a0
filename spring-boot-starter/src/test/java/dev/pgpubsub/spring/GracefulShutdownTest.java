package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * A graceful shutdown under load, in real contexts on a real Postgres: the context is closed while
 * thousands of tasks are being handled, one handler outlasting the shutdown grace. The close ends
 * within Spring's shutdown phase timeout; each task was either handled once (its write committed
 * with its deletion) or is still due, never both and never twice, and none was charged an attempt;
 * a second context on the same database then handles the rest, the overrunning handler's task once.
 */
@PostgresTest
class GracefulShutdownTest {

    static final int TASKS = 3_000;
    /** The task whose handler, in the first context, is still running when the shutdown grace ends. */
    static final long SLOW = 600;
    /** Spring's {@code spring.lifecycle.timeout-per-shutdown-phase} here; the listener's grace is half of it. */
    static final Duration PHASE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration AWAIT = Duration.ofMinutes(3);

    /** Writes one side row per task through JdbcTemplate, in the claim transaction; takes a little time. */
    public static class Handlers {
        private final JdbcTemplate jdbc;
        private final int generation;
        final CountDownLatch slowEntered = new CountDownLatch(1);
        final CountDownLatch releaseSlow = new CountDownLatch(1);

        Handlers(JdbcTemplate jdbc, int generation) {
            this.jdbc = jdbc;
            this.generation = generation;
        }

        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws InterruptedException {
            jdbc.update("INSERT INTO side (task_id, n, attempt, generation) VALUES (?, ?, ?, ?)", context.id(), order.n(),
                    context.attempt(), generation);
            if (order.n() == SLOW && generation == 1) {
                slowEntered.countDown();
                awaitIgnoringInterrupts(releaseSlow); // deaf to the shutdown: it outlasts the grace
            } else {
                Thread.sleep(2);
            }
        }

        private static void awaitIgnoringInterrupts(CountDownLatch latch) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            boolean interrupted = false;
            while (latch.getCount() > 0 && System.nanoTime() < deadline) {
                try {
                    latch.await(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class App {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }

        @Bean
        JdbcTemplate jdbcTemplate(DataSource dataSource) {
            return new JdbcTemplate(dataSource);
        }

        @Bean
        Handlers handlers(JdbcTemplate jdbc, Environment environment) {
            return new Handlers(jdbc, environment.getRequiredProperty("test.generation", Integer.class));
        }
    }

    private final TestDatabase db;

    GracefulShutdownTest(TestDatabase db) {
        this.db = db;
    }

    /**
     * An application on the test database whose handlers are of {@code generation}. The listener's
     * grace is its default, from Spring's phase timeout: half of it.
     */
    private ApplicationContextRunner app(int generation) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(LifecycleAutoConfiguration.class, PgPubSubAutoConfiguration.class))
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withUserConfiguration(App.class)
                .withPropertyValues("test.generation=" + generation,
                        "spring.lifecycle.timeout-per-shutdown-phase=" + PHASE_TIMEOUT.toSeconds() + "s",
                        "pgpubsub.schema=graceful", "pgpubsub.listener.workers=2", "pgpubsub.listener.batch-size=50");
    }

    private long number(String sql) throws SQLException {
        return db.number(sql);
    }

    /** Sessions on the test database other than the one asking: the applications' pools and LISTEN connections. */
    private long otherSessions() throws SQLException {
        return number("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    }

    @Test
    void aShutdownUnderLoadLosesNothingDuplicatesNothingAndEndsWithinThePhaseTimeout() throws Exception {
        db.execute("CREATE TABLE side (task_id bigint NOT NULL, n bigint NOT NULL, attempt int NOT NULL, "
                + "generation int NOT NULL)"); // no unique key: a duplicate shows as a second row
        db.execute("CREATE TABLE published (id bigint PRIMARY KEY, n bigint NOT NULL)");

        Handlers[] firstHandlers = new Handlers[1];
        app(1).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(ListenerLifecycle.defaultShutdownGrace(PHASE_TIMEOUT)).isEqualTo(PHASE_TIMEOUT.dividedBy(2));
            Handlers handlers = context.getBean(Handlers.class);
            firstHandlers[0] = handlers;
            Publisher publisher = context.getBean(Publisher.class);
            DataSource dataSource = context.getBean(DataSource.class);
            for (long from = 0; from < TASKS; from += 1_000) {
                long start = from;
                publisher.inNewTransaction(dataSource, (tx, c) -> {
                    long[] ids = tx.publishAll(ORDERS, LongStream.range(start, start + 1_000).mapToObj(Order::new).toList());
                    try (var ps = c.prepareStatement("INSERT INTO published (id, n) VALUES (?, ?)")) {
                        for (int i = 0; i < ids.length; i++) {
                            ps.setLong(1, ids[i]);
                            ps.setLong(2, start + i);
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                    return null;
                });
            }
            // Mid-stream: the slow handler runs, and the other worker has committed more batches since.
            assertThat(handlers.slowEntered.await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            long handledBefore = number("SELECT count(*) FROM side");
            await().atMost(AWAIT).until(() -> number("SELECT count(*) FROM side") >= handledBefore + 200);

            long closing = System.nanoTime();
            context.close();
            Duration took = Duration.ofNanos(System.nanoTime() - closing);
            System.out.printf("Closed under load in %d ms (phase timeout %d ms)%n", took.toMillis(), PHASE_TIMEOUT.toMillis());
            assertThat(took).as("the close, with a handler that outlasts the grace").isLessThan(PHASE_TIMEOUT);
            assertThat(took).as("the running handlers were given the grace").isGreaterThanOrEqualTo(
                    ListenerLifecycle.defaultShutdownGrace(PHASE_TIMEOUT).minusMillis(500));
        });
        firstHandlers[0].releaseSlow.countDown(); // its thread returns, to a transaction that was aborted
        await().atMost(AWAIT).until(() -> otherSessions() == 0);

        // Each task: handled once (one side row, the task gone) or still due (no side row), never both.
        assertThat(number("SELECT count(*) FROM published p WHERE (SELECT count(*) FROM side s WHERE s.task_id = p.id) "
                + "+ (SELECT count(*) FROM graceful.notification t WHERE t.id = p.id) <> 1")).isZero();
        assertThat(number("SELECT count(*) FROM side s WHERE NOT EXISTS (SELECT 1 FROM published p WHERE p.id = s.task_id)"))
                .isZero();
        long handled = number("SELECT count(*) FROM side");
        long due = number("SELECT count(*) FROM graceful.notification");
        assertThat(handled).as("handled before the shutdown").isPositive();
        assertThat(due).as("still due after it").isPositive();
        assertThat(handled + due).isEqualTo(TASKS);
        // The slow task (and the batch-mates it ran before it) rolled back; nothing was charged an attempt.
        assertThat(number("SELECT count(*) FROM side WHERE n = " + SLOW)).isZero();
        assertThat(number("SELECT count(*) FROM graceful.notification WHERE payload->>'n' = '" + SLOW + "'")).isOne();
        assertThat(number("SELECT count(*) FROM graceful.notification WHERE attempts <> 0")).isZero();
        assertThat(number("SELECT count(*) FROM graceful.dead_letter")).isZero();

        app(2).run(context -> {
            assertThat(context).hasNotFailed();
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(200))
                    .until(() -> number("SELECT count(*) FROM graceful.notification") == 0
                            && number("SELECT count(*) FROM side") >= TASKS);
        });
        assertThat(number("SELECT count(*) FROM side")).isEqualTo(TASKS);
        assertThat(number("SELECT count(*) FROM published p WHERE (SELECT count(*) FROM side s WHERE s.task_id = p.id) <> 1"))
                .isZero();
        assertThat(number("SELECT count(*) FROM side WHERE generation = 2")).isEqualTo(due);
        assertThat(number("SELECT count(*) FROM side WHERE n = " + SLOW + " AND generation = 2 AND attempt = 1")).isOne();
        assertThat(number("SELECT count(*) FROM side WHERE attempt <> 1")).isZero();
        assertThat(number("SELECT count(*) FROM graceful.notification")).isZero();
        assertThat(number("SELECT count(*) FROM graceful.dead_letter")).isZero();
    }
}
