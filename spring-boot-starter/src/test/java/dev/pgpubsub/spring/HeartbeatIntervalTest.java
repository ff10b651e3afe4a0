package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code pgpubsub.listener.heartbeat-interval} reaches the listener in a real Spring context: its
 * heartbeat row expires three intervals after each beat, and zero writes none.
 */
@PostgresTest
class HeartbeatIntervalTest {

    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    private final TestDatabase db;

    HeartbeatIntervalTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.listener_heartbeat");
    }

    private ApplicationContextRunner app() {
        return TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class);
    }

    @Test
    void theHeartbeatRowExpiresThreeIntervalsAfterEachBeat() {
        app().withPropertyValues("pgpubsub.listener.heartbeat-interval=7s").run(context -> {
            assertThat(context).hasNotFailed();
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM pgpubsub.listener_heartbeat") == 1);
            assertThat(db.strings("SELECT (expires_at - beat_at)::text FROM pgpubsub.listener_heartbeat"))
                    .containsExactly("00:00:21");
        });
    }

    @Test
    void zeroWritesNoHeartbeatRow() {
        app().withPropertyValues("pgpubsub.listener.heartbeat-interval=0").run(context -> {
            assertThat(context).hasNotFailed();
            context.getBean(Publisher.class).publish(context.getBean(DataSource.class), TestApps.ORDERS, new Order(1));
            // A task handled: the listener has been serving for a while, and would have beaten at its start.
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(db.number("SELECT count(*) FROM pgpubsub.listener_heartbeat")).isZero();
        });
    }
}
