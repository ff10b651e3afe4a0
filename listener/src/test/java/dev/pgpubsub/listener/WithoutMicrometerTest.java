package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: with none on the class path (the surefire execution {@code no-micrometer}
 * leaves it out), the listener and the publisher build, start and run, with no observer and with
 * one of the application's own. Skipped where Micrometer is on the class path.
 */
@PostgresTest
class WithoutMicrometerTest {

    private final TestDatabase db;

    WithoutMicrometerTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        assumeTrue(Boolean.getBoolean("pgpubsub.test.withoutMicrometer"), "runs in the no-micrometer execution only");
        Fixtures.reset(db);
    }

    @Test
    void theListenerAndThePublisherRunWithoutMicrometer() throws Exception {
        assertThatThrownBy(() -> Class.forName("io.micrometer.core.instrument.MeterRegistry"))
                .isInstanceOf(ClassNotFoundException.class);
        Fixtures.publishOrders(db, 1, 4);
        try (Listener listener = listenerFor(db).workers(1)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "plain")).start()) {
            await().atMost(AWAIT).until(() -> listener.stats().tasksDone() == 3);
        }
    }

    @Test
    void anObserverOfTheApplicationsOwnIsToldWithoutMicrometer() throws Exception {
        AtomicInteger published = new AtomicInteger();
        AtomicInteger succeeded = new AtomicInteger();
        AtomicInteger measured = new AtomicInteger();
        Publisher publisher = Publisher.builder().observer((channel, tasks) -> published.addAndGet(tasks)).build();
        publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(ORDERS, List.of(new Order(1), new Order(2))));
        assertThat(published.get()).isEqualTo(2);
        ListenerObserver observer = new ListenerObserver() {
            @Override
            public void committed(String channel, int done, int retried, int deadLettered) {
                succeeded.addAndGet(done);
            }

            @Override
            public Duration queueDepthInterval() {
                return Duration.ofMillis(100);
            }

            @Override
            public void queueDepths(List<QueueDepth> depths) {
                measured.incrementAndGet();
            }
        };
        try (Listener listener = listenerFor(db).workers(1).recoverOnStart(false).observer(observer)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "observed")).start()) {
            await().atMost(AWAIT).until(() -> succeeded.get() == 2 && measured.get() > 0);
        }
    }
}
