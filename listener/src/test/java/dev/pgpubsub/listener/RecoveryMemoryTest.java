package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Recovery in a JVM of its own, with little memory: the backlog streams through, whatever its size,
 * and a recovery killed half-way loses nothing and commits nothing twice when started again.
 */
@PostgresTest
class RecoveryMemoryTest {

    /** 64 MiB of heap and 32 MiB of direct memory: far less than the backlog below would take at once. */
    private static final List<String> SMALL_JVM = List.of("-Xmx64m", "-XX:MaxDirectMemorySize=32m");
    /** The stated bound: heap in use after GC stays under this during the whole drain. */
    private static final long HEAP_AFTER_GC_BOUND = 32L << 20;
    /** Direct memory (the JDK's buffers plus Netty's own, which pgjdbc-ng uses) stays under this. */
    private static final long DIRECT_BOUND = 24L << 20;

    private final TestDatabase db;

    RecoveryMemoryTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws Exception {
        Fixtures.reset(db);
    }

    /** Worker connections with the standard driver, and with pgjdbc-ng (which buffers in direct memory). */
    @ParameterizedTest
    @ValueSource(strings = {"jdbc:postgresql:", "jdbc:pgsql:"})
    void twoHundredThousandRowsDrainInA64MegabyteJvmExactlyOnce(String driverPrefix) throws Exception {
        // ~500 bytes of JSON each: ~100 MB of payload, ~200 MB as Java objects if loaded at once.
        Fixtures.execute(db, "INSERT INTO pgpubsub.notification (channel, payload) SELECT 'orders', "
                + "jsonb_build_object('n', g, 'pad', repeat('x', 480)) FROM generate_series(1, 200000) g");
        Map<String, Long> memory;
        String calls;
        String url = db.jdbcUrl().replace("jdbc:postgresql:", driverPrefix);
        try (ForkedJvm child = startChild("small", url)) {
            assertThat(child.await(Duration.ofSeconds(60))).isEqualTo("READY");
            await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(child.stop(Duration.ofSeconds(60))).as("exit code (an OutOfMemoryError would fail it)").isZero();
            memory = parse(child.awaitStartingWith("MEMORY", Duration.ofSeconds(10)));
            calls = child.awaitStartingWith("CALLS", Duration.ofSeconds(10));
        }
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(200_000);
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(200_000);
        assertThat(calls).endsWith("RECOVERED 200000");
        assertThat(memory.get("heapAfterGc")).as("max heap after GC, bytes").isPositive().isLessThan(HEAP_AFTER_GC_BOUND);
        assertThat(memory.get("jdkDirect") + memory.get("nettyDirect")).as("max direct memory, bytes").isLessThan(DIRECT_BOUND);
        System.out.printf("recovery of 200,000 rows at -Xmx64m, workers on %s: %s; %s%n", driverPrefix, memory, calls);
    }

    @Test
    void aRecoveryKilledHalfWayLosesNothingAndCommitsNothingTwice() throws Exception {
        Fixtures.execute(db, "INSERT INTO pgpubsub.notification (channel, payload) SELECT 'orders', "
                + "jsonb_build_object('n', g) FROM generate_series(1, 60000) g");
        try (ForkedJvm first = startChild("first")) {
            assertThat(first.await(Duration.ofSeconds(60))).isEqualTo("READY");
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(50))
                    .until(() -> count(db, "SELECT count(*) FROM handled") >= 20_000);
            first.kill();
        }
        long doneBeforeCrash = count(db, "SELECT count(*) FROM handled");
        assertThat(doneBeforeCrash).isLessThan(60_000);
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(doneBeforeCrash);
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isEqualTo(60_000 - doneBeforeCrash);
        // The batches in flight when the process died rolled back with it: once the server has ended its
        // sessions, their rows carry the dead claims, which the next claim charges an attempt each.
        await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pg_stat_activity "
                + "WHERE application_name LIKE 'pgpubsub-%'") == 0);
        long inFlightAtCrash = count(db, "SELECT count(*) FROM pgpubsub.notification "
                + "WHERE pgpubsub.claim_verdict(xmax, id) IS NOT NULL");
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification WHERE attempts <> 0")).isZero();

        try (ForkedJvm second = startChild("second")) {
            assertThat(second.await(Duration.ofSeconds(60))).isEqualTo("READY");
            await().atMost(AWAIT.multipliedBy(3)).pollInterval(Duration.ofMillis(200))
                    .until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(second.stop(Duration.ofSeconds(60))).isZero();
        }
        assertThat(count(db, "SELECT count(*) FROM handled")).isEqualTo(60_000);
        assertThat(count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(60_000);
        // Those batches ran again as their second attempt; every other task ran at its first.
        assertThat(count(db, "SELECT count(*) FROM handled WHERE attempt = 2")).isEqualTo(inFlightAtCrash);
        assertThat(count(db, "SELECT count(*) FROM handled WHERE attempt = 1")).isEqualTo(60_000 - inFlightAtCrash);
        System.out.printf("killed after %d of 60,000 tasks, %d in flight; the restart finished the rest%n",
                doneBeforeCrash, inFlightAtCrash);
    }

    private ForkedJvm startChild(String name) throws Exception {
        return startChild(name, db.jdbcUrl());
    }

    private ForkedJvm startChild(String name, String url) throws Exception {
        return ForkedJvm.start(ListenerProcess.class, SMALL_JVM, url, db.user(),
                db.password().isEmpty() ? "-" : db.password(), name, "0");
    }

    private static Map<String, Long> parse(String report) {
        Map<String, Long> values = new HashMap<>();
        for (String pair : report.substring("MEMORY ".length()).split(" ")) {
            String[] kv = pair.split("=");
            values.put(kv[0], Long.parseLong(kv[1]));
        }
        return values;
    }
}
