package dev.pgpubsub.bench;

import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the figures were measured on. */
final class Machine {

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
            m.put("postgres server", server instanceof dev.pgpubsub.testing.EmbeddedPostgresServer ? "embedded, same machine"
                    : "given by URL");
            m.put("driver org.postgresql", Bench.driverVersion(db.jdbcUrl()));
            m.put("driver pgjdbc-ng", Bench.driverVersion(db.pgjdbcNgUrl()));
        }
        return m;
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
