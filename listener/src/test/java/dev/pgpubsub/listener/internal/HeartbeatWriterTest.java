package dev.pgpubsub.listener.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.listener.internal.HeartbeatWriter.Beat;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A failed beat is not the last: beats go on after the beat's supplier throws, and the stopped beat
 * is still written at close after one failed write, but not after two in a row.
 */
@PostgresTest
class HeartbeatWriterTest {

    private static final Duration AWAIT = Duration.ofSeconds(60);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final TestDatabase db;
    // While true, the writer's DataSource refuses connections, as in an outage.
    private volatile boolean down;

    HeartbeatWriterTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        PgPubSub.migrate(db.dataSource());
        db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        down = false;
    }

    @Test
    void beatsGoOnAfterTheSupplierThrows() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Supplier<Beat> throwsOnce = () -> {
            int n = calls.incrementAndGet();
            if (n == 1) {
                throw new IllegalStateException("the stats could not be read");
            }
            return running(n);
        };
        try (HeartbeatWriter writer = writer(db.dataSource(), Duration.ofMillis(100), throwsOnce)) {
            writer.start();
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM pgpubsub.listener_heartbeat"
                    + " WHERE listener = 'hb-test' AND tasks_done >= 3") == 1);
        }
    }

    @Test
    void theStoppedBeatIsWrittenAtCloseAfterOneFailedWrite() throws Exception {
        HeartbeatWriter writer = writer(failingWhileDown(), Duration.ofHours(1), () -> running(1));
        down = true;
        assertThat(writer.write(running(1))).isFalse();
        down = false;

        writer.close(stopped(7));

        assertThat(db.strings("SELECT state || ' ' || listening || ' ' || tasks_done FROM pgpubsub.listener_heartbeat"))
                .containsExactly("stopped false 7");
    }

    @Test
    void theStoppedBeatIsSkippedAfterTwoFailedWritesInARow() throws Exception {
        HeartbeatWriter writer = writer(failingWhileDown(), Duration.ofHours(1), () -> running(1));
        assertThat(writer.write(running(1))).isTrue();
        down = true;
        assertThat(writer.write(running(2))).isFalse();
        assertThat(writer.write(running(3))).isFalse();
        down = false;

        writer.close(stopped(7));

        assertThat(db.strings("SELECT state || ' ' || tasks_done FROM pgpubsub.listener_heartbeat"))
                .containsExactly("running 1");
    }

    private HeartbeatWriter writer(DataSource dataSource, Duration interval, Supplier<Beat> beat) {
        return new HeartbeatWriter(dataSource, "pgpubsub", "hb-test", List.of("orders"), Instant.now(), interval,
                TIMEOUT, beat);
    }

    private static Beat running(long tasksDone) {
        return new Beat("running", true, null, null, tasksDone, 0);
    }

    private static Beat stopped(long tasksDone) {
        return new Beat("stopped", false, null, null, tasksDone, 0);
    }

    /** The test database's DataSource, whose getConnection fails while {@link #down}. */
    private DataSource failingWhileDown() {
        DataSource real = db.dataSource();
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    if (down && method.getName().equals("getConnection")) {
                        throw new SQLException("Connection refused (the test's outage)", "08001");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
