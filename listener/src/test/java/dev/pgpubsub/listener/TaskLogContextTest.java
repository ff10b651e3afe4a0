package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Task-scoped logs: the MDC holds the task while its handler runs and while the listener logs about it, and only then. */
@PostgresTest
class TaskLogContextTest {

    private static final Logger HANDLER_LOG = LoggerFactory.getLogger(TaskLogContextTest.class);
    private static final String ID = "pgpubsub.task.id";
    private static final String CHANNEL = "pgpubsub.task.channel";
    private static final String ATTEMPT = "pgpubsub.task.attempt";

    private final TestDatabase db;
    private final CapturedLogs log = new CapturedLogs();
    private final ch.qos.logback.classic.Logger root =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);

    TaskLogContextTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
        log.start();
        root.addAppender(log);
    }

    @AfterEach
    void detach() {
        root.detachAppender(log);
    }

    @Test
    void theHandlerAndTheListenersLinesAboutItsTaskCarryTheTaskAndNothingLeaksPastIt() throws Exception {
        long[] ids = Fixtures.publishOrders(db, 1, 4); // 1 succeeds, 2 fails once, 3 always fails
        Map<String, List<Map<String, String>>> seen = new ConcurrentHashMap<>();
        RetryPolicy twice = new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
        try (Listener listener = listenerFor(db).workers(1).batchSize(3).retryPolicy(twice).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> {
                    Map<String, String> mdc = MDC.getCopyOfContextMap();
                    seen.computeIfAbsent(ctx.id() + ":" + ctx.attempt(), k -> new CopyOnWriteArrayList<>()).add(mdc);
                    HANDLER_LOG.info("handling order {}", o.n());
                    if (o.n() == 3 || (o.n() == 2 && ctx.attempt() == 1)) {
                        throw new IllegalStateException("order " + o.n() + " refused");
                    }
                    recordHandled(ctx, o.n(), "x");
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1
                    && log.matching("moved to the dead letters").size() == 1);
        }

        // Inside the handler, on success and on failure, every attempt: the task's id, channel and attempt.
        assertThat(seen.get(ids[0] + ":1")).allSatisfy(mdc -> assertThat(mdc).isEqualTo(task(ids[0], 1)));
        assertThat(seen.get(ids[1] + ":1")).allSatisfy(mdc -> assertThat(mdc).isEqualTo(task(ids[1], 1)));
        assertThat(seen.get(ids[1] + ":2")).allSatisfy(mdc -> assertThat(mdc).isEqualTo(task(ids[1], 2)));
        assertThat(seen.get(ids[2] + ":2")).allSatisfy(mdc -> assertThat(mdc).isEqualTo(task(ids[2], 2)));
        // The handler's own lines carry them.
        assertThat(log.matching("handling order 2")).extracting(ILoggingEvent::getMDCPropertyMap)
                .containsOnly(task(ids[1], 1), task(ids[1], 2)); // run again when a later batch-mate fails

        // The listener's warnings about a failed task carry it too.
        ILoggingEvent retried = single(log.matching("Task " + ids[1] + " on channel 'orders' failed (attempt 1 of 2)"));
        assertThat(retried.getMDCPropertyMap()).isEqualTo(task(ids[1], 1));
        ILoggingEvent last = single(log.matching("Task " + ids[2] + " on channel 'orders' failed its last attempt"));
        assertThat(last.getMDCPropertyMap()).isEqualTo(task(ids[2], 2));

        // The worker's next line about no task in particular carries none of it: the keys were removed.
        ILoggingEvent buried = single(log.matching("1 task(s) of channel 'orders' moved to the dead letters"));
        assertThat(buried.getThreadName()).isEqualTo(last.getThreadName());
        assertThat(buried.getMDCPropertyMap()).isEmpty();
        assertThat(log.events()).filteredOn(e -> e.getThreadName().equals(last.getThreadName()))
                .filteredOn(e -> !e.getFormattedMessage().contains("Task ") && !e.getFormattedMessage().startsWith("handling "))
                .isNotEmpty().allSatisfy(e -> assertThat(e.getMDCPropertyMap()).isEmpty());
    }

    /** The timeout is noticed on another thread than the handler's: its warning carries the task all the same. */
    @Test
    void theWarningAboutAHandlerThatTimedOutCarriesItsTask() throws Exception {
        long[] ids = Fixtures.publishOrders(db, 1, 2);
        CountDownLatch released = new CountDownLatch(1);
        RetryPolicy fast = new RetryPolicy(3, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
        try (Listener listener = listenerFor(db).workers(1).retryPolicy(fast).recoverOnStart(false)
                .handlerTimeout(Duration.ofSeconds(1))
                .on(ORDERS, (o, ctx) -> {
                    if (ctx.attempt() == 1) {
                        while (released.getCount() > 0) {
                            try {
                                released.await(); // deaf to its interruption, as a stuck handler is
                            } catch (InterruptedException ignored) {
                                // keep hanging
                            }
                        }
                    }
                    recordHandled(ctx, o.n(), "x");
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
        } finally {
            released.countDown();
        }
        ILoggingEvent timedOut = single(log.matching("Task " + ids[0] + " on channel 'orders': handler timed out"));
        assertThat(timedOut.getThreadName()).contains("watchdog");
        assertThat(timedOut.getMDCPropertyMap()).isEqualTo(task(ids[0], 1));
    }

    private static Map<String, String> task(long id, int attempt) {
        return Map.of(ID, Long.toString(id), CHANNEL, "orders", ATTEMPT, Integer.toString(attempt));
    }

    private static ILoggingEvent single(List<ILoggingEvent> events) {
        assertThat(events).hasSize(1);
        return events.get(0);
    }
}
