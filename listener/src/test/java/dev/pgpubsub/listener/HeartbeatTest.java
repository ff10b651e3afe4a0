package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.execute;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.publishOrders;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static dev.pgpubsub.listener.Fixtures.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The listener's heartbeat row in {@code listener_heartbeat}, which the console reads: written at
 * start, renewed with the done counter, marked stopped at close, and expired rows of any listener
 * deleted by the beats.
 */
@PostgresTest
class HeartbeatTest {

    private final TestDatabase db;

    HeartbeatTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws Exception {
        Fixtures.reset(db);
        execute(db, "DELETE FROM pgpubsub.listener_heartbeat");
    }

    @Test
    void aStartedListenerBeatsRunningAndListeningAndItsDoneCounterGrowsThenItIsMarkedStopped() throws Exception {
        // 3 s: each beat gets a 1.5 s statement timeout, which a busy machine does not run out of; the
        // row is awaited rather than read once, since a beat may still fail and the next one tell.
        Listener listener = listenerFor(db).heartbeatInterval(Duration.ofSeconds(3)).recoverOnStart(false)
                .on(ORDERS, (o, ctx) -> recordHandled(ctx, o.n(), "x")).start();
        try (listener) {
            // The first beat is written at once; the one after it at the latest says running.
            await().atMost(AWAIT).untilAsserted(() -> assertThat(strings(db, "SELECT state || ' ' || listening"
                    + " || ' ' || channels::text || ' ' || tasks_done || ' ' || (pid = " + ProcessHandle.current().pid()
                    + ") || ' ' || (listener LIKE 'pgpubsub-%') || ' ' || (expires_at > beat_at)"
                    + " FROM pgpubsub.listener_heartbeat")).containsExactly("running true {orders} 0 true true true"));

            publishOrders(db, 1, 6);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 5);
            await().atMost(AWAIT).untilAsserted(() -> assertThat(strings(db, "SELECT tasks_done || ' ' || tasks_failed"
                    + " FROM pgpubsub.listener_heartbeat")).containsExactly("5 0"));
        }
        assertThat(strings(db, "SELECT state || ' ' || listening || ' ' || tasks_done FROM pgpubsub.listener_heartbeat"))
                .containsExactly("stopped false 5");
    }

    @Test
    void aBeatDeletesTheExpiredRowsOfOtherListenersAndKeepsTheLiveOnes() throws Exception {
        String columns = "INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening,"
                + " started_at, beat_at, expires_at) VALUES ";
        execute(db, columns + "('pgpubsub-1', 'gone-host', 1, '{orders}', 'running', true, now() - interval '1 hour',"
                + " now() - interval '10 minutes', now() - interval '9 minutes')");
        execute(db, columns + "('pgpubsub-1', 'live-host', 2, '{orders}', 'running', true, now(), now(),"
                + " now() + interval '1 hour')");
        try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> { }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.listener_heartbeat"
                    + " WHERE host = 'gone-host'") == 0);
            assertThat(strings(db, "SELECT host FROM pgpubsub.listener_heartbeat WHERE pid <> "
                    + ProcessHandle.current().pid())).containsExactly("live-host");
        }
    }

    @Test
    void noHeartbeatWhenTurnedOff() throws Exception {
        try (Listener listener = listenerFor(db).heartbeatInterval(Duration.ZERO).on(ORDERS, (o, ctx) -> { }).start()) {
            publishOrders(db, 1, 2);
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(count(db, "SELECT count(*) FROM pgpubsub.listener_heartbeat")).isZero();
        }
    }

    @Test
    void anIntervalUnderASecondIsRefusedNamingTheSetting() {
        assertThatThrownBy(() -> Listener.builder().heartbeatInterval(Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("heartbeatInterval is PT0.01S")
                .hasMessageContaining("Duration.ZERO");
    }
}
