package dev.pgpubsub.bench;

import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** What the figures were measured on. */
final class Machine {

    private static final int SAMPLES = 500;

    private Machine() {
    }

    static Map<String, String> describe(PostgresServer server) throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("memory", memory());
        m.put("cpu", cpu());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        try (TestDatabase db = server.createDatabase("bench_machine")) {
            m.put("postgres", db.strings("SELECT version()").get(0));
            m.put("synchronous_commit", db.strings("SHOW synchronous_commit").get(0));
            m.put("fsync", db.strings("SHOW fsync").get(0) + ", " + db.strings("SHOW wal_sync_method").get(0));
            m.put("postgres server", server instanceof dev.pgpubsub.testing.EmbeddedPostgresServer ? "embedded, same machine"
                    : "given by URL");
            m.put("driver org.postgresql", Bench.driverVersion(db.jdbcUrl()));
            m.put("driver pgjdbc-ng", Bench.driverVersion(db.pgjdbcNgUrl()));
            m.put("round trip ms", String.format(Locale.ROOT, "%.3f", medianMillis(db, "SELECT 1")));
            db.execute("CREATE TABLE commit_cost (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
            m.put("commit ms", String.format(Locale.ROOT, "%.3f",
                    medianMillis(db, "INSERT INTO commit_cost DEFAULT VALUES")));
        }
        return m;
    }

    /**
     * The median time of {@value #SAMPLES} runs of {@code sql}, each in a transaction of its own
     * (auto-commit): for an INSERT, what a small durable commit costs on this server.
     */
    private static double medianMillis(TestDatabase db, String sql) throws Exception {
        long[] nanos = new long[SAMPLES];
        try (Connection c = db.connect(); PreparedStatement statement = c.prepareStatement(sql)) {
            for (int i = -SAMPLES / 5; i < SAMPLES; i++) {
                long start = System.nanoTime();
                statement.execute();
                if (i >= 0) {
                    nanos[i] = System.nanoTime() - start;
                }
            }
        }
        Arrays.sort(nanos);
        return nanos[SAMPLES / 2] / 1e6;
    }

    private static String memory() {
        return line(Path.of("/proc/meminfo"), "MemTotal:");
    }

    private static String cpu() {
        return line(Path.of("/proc/cpuinfo"), "model name");
    }

    private static String line(Path file, String prefix) {
        try {
            return Files.readAllLines(file).stream().filter(l -> l.startsWith(prefix)).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
