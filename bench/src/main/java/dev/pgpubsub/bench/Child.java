package dev.pgpubsub.bench;

import dev.pgpubsub.testing.TestDatabase;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@link RecoveryChild} in a JVM of its own with a 64 MiB heap and reads its result line. */
final class Child {

    private Child() {
    }

    static Map<String, String> recover(TestDatabase db, long backlog) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:MaxDirectMemorySize=32m"));
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), RecoveryChild.class.getName(), db.jdbcUrl(),
                db.user(), db.password().isEmpty() ? "-" : db.password(), Long.toString(backlog)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String result = null;
        StringBuilder tail = new StringBuilder();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("RESULT ")) {
                    result = line.substring("RESULT ".length());
                } else {
                    tail.append(line).append('\n');
                    if (tail.length() > 20_000) {
                        tail.delete(0, tail.length() - 10_000);
                    }
                }
            }
        }
        if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0 || result == null) {
            process.destroyForcibly();
            throw new IllegalStateException("The recovery JVM failed (exit " + (process.isAlive() ? "none" : process.exitValue())
                    + "); its last output:\n" + tail);
        }
        Map<String, String> values = new HashMap<>();
        for (String pair : result.split(" ")) {
            int eq = pair.indexOf('=');
            values.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return values;
    }

    /** "ms:bytes,ms:bytes,..." as pairs. */
    static List<long[]> samples(String text) {
        List<long[]> samples = new ArrayList<>();
        if (text == null || text.isEmpty()) {
            return samples;
        }
        for (String pair : text.split(",")) {
            String[] p = pair.split(":");
            samples.add(new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])});
        }
        return samples;
    }
}
