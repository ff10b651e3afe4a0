package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.PublishOptions;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** A mixed backlog is claimed in priority order, then run_at and id within a priority. */
@PostgresTest
class PriorityOrderTest {

    private static final int[] PRIORITIES = {0, 5, 0, 100, 5, 0, 50, 0, 100, 5};

    private final TestDatabase db;
    private final Publisher publisher = Publisher.create();

    PriorityOrderTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    /**
     * 60 tasks of four priorities, published in one transaction (older run times for the lower
     * priorities, so that run_at order and priority order disagree), handled by one worker in
     * batches of 4: through start-up recovery (published before the start) and through the claim
     * loop (published while it runs).
     */
    @ParameterizedTest(name = "published before the start: {0}")
    @ValueSource(booleans = {true, false})
    void aMixedBacklogIsHandledHighestPriorityFirst(boolean beforeStart) throws Exception {
        if (beforeStart) {
            publishMixedBacklog();
        }
        try (Listener listener = listenerFor(db).workers(1).batchSize(4)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "p")).start()) {
            if (!beforeStart) {
                publishMixedBacklog();
            }
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 60);
        }
        // n encodes the priority (n / 1000) and the publish order (n % 1000).
        List<Long> handled = db.strings("SELECT n FROM handled ORDER BY task_id").stream().map(Long::parseLong).toList();
        List<Long> inClaimOrder = db.strings("SELECT n FROM handled ORDER BY ctid").stream().map(Long::parseLong).toList();
        assertThat(handled).hasSize(60);
        List<Long> expected = new ArrayList<>(inClaimOrder);
        expected.sort((a, b) -> a / 1000 != b / 1000 ? Long.compare(b / 1000, a / 1000) : Long.compare(a % 1000, b % 1000));
        assertThat(inClaimOrder).as("handled in priority order, then publish order").containsExactlyElementsOf(expected);
    }

    /** Sixty tasks; the lower the priority, the older the run time. */
    private void publishMixedBacklog() {
        Instant now = Instant.now();
        publisher.inNewTransaction(db.dataSource(), (tx, c) -> {
            for (int i = 0; i < 60; i++) {
                int priority = PRIORITIES[i % PRIORITIES.length];
                tx.publish(ORDERS, new Order(priority * 1000L + i), PublishOptions.defaults().priority(priority)
                        .runAt(now.minusSeconds(600 - priority * 5L)));
            }
            return null;
        });
    }

    @Test
    void aDeadLetterKeepsItsPriorityAndGetsItBackWhenReQueued() throws Exception {
        RetryPolicy once = new RetryPolicy(1, Duration.ofMillis(20), Duration.ofMillis(80), 0.2);
        try (Listener listener = listenerFor(db).retryPolicy(once).on(ORDERS, (o, ctx) -> {
            throw new IllegalStateException("no");
        }).start()) {
            publisher.publish(db.dataSource(), ORDERS, new Order(1), PublishOptions.defaults().priority(42));
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 1);
        }
        assertThat(db.strings("SELECT priority::text FROM pgpubsub.dead_letter")).containsExactly("42");
        assertThat(DeadLetters.of(db.dataSource()).requeueChannel("orders")).isEqualTo(1);
        assertThat(db.strings("SELECT priority::text FROM pgpubsub.notification")).containsExactly("42");
    }
}
