package dev.pgpubsub.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the JVM's time goes: a Flight Recorder profile of a piece of work, its execution samples
 * sorted into layers by the first frame (from the top) that is not the JDK's, and the process's CPU
 * time, so that each layer's share becomes microseconds per task.
 */
final class Profile {

    /** Layers by package prefix, first match wins; a stack of JDK frames only is "JDK". */
    private static final Map<String, String> LAYERS = new LinkedHashMap<>();

    static {
        LAYERS.put("dev.pgpubsub.listener.internal.guard", "pgpubsub: transaction guard");
        LAYERS.put("dev.pgpubsub.listener.micrometer", "pgpubsub: metrics");
        LAYERS.put("dev.pgpubsub.listener.internal.claim.ObservedTasks", "pgpubsub: tracing");
        LAYERS.put("dev.pgpubsub.listener.internal.claim.TraceIds", "pgpubsub: tracing");
        LAYERS.put("dev.pgpubsub.bench", "handler (no-op) and harness");
        LAYERS.put("dev.pgpubsub", "pgpubsub: claim loop and dispatch");
        LAYERS.put("io.opentelemetry", "tracing: OpenTelemetry SDK");
        LAYERS.put("io.micrometer.tracing", "tracing: Micrometer Tracing");
        LAYERS.put("io.micrometer", "Micrometer (meters, observations)");
        LAYERS.put("org.postgresql", "JDBC driver (standard)");
        LAYERS.put("com.impossibl", "JDBC driver (pgjdbc-ng)");
        LAYERS.put("io.netty", "Netty (LISTEN connection)");
        LAYERS.put("tools.jackson", "JSON (Jackson)");
        LAYERS.put("com.zaxxer.hikari", "connection pool (HikariCP)");
        LAYERS.put("org.slf4j", "logging");
        LAYERS.put("ch.qos.logback", "logging");
    }

    private Profile() {
    }

    /** CPU time of this process so far, in nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Work to profile. */
    @FunctionalInterface
    interface Work {
        /** Runs; returns how many tasks it did. */
        long run() throws Exception;
    }

    /**
     * Runs {@code work} under the Flight Recorder's "profile" settings.
     *
     * @return microseconds of JVM CPU time per task, by layer, and "total"; and how many execution
     *     samples the layers' shares come from
     */
    static Map<String, Double> perTask(Work work) throws Exception {
        Path file = Files.createTempFile("pgpubsub-bench", ".jfr");
        long tasks;
        long cpu;
        try (Recording recording = new Recording(Configuration.getConfiguration("profile"))) {
            // Every millisecond (the profile settings sample every 10 ms): a burn-down lasts a second or
            // two, and its threads spend most of it waiting for the server, which is not sampled.
            recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
            recording.start();
            long before = processCpuNanos();
            tasks = work.run();
            cpu = processCpuNanos() - before;
            recording.stop();
            recording.dump(file);
        }
        Map<String, Long> samples = new LinkedHashMap<>();
        Map<String, Long> frames = new LinkedHashMap<>();
        long all = 0;
        try {
            for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
                    continue;
                }
                samples.merge(layer(event.getStackTrace()), 1L, Long::sum);
                if (event.getStackTrace() != null) {
                    List<RecordedFrame> stack = event.getStackTrace().getFrames();
                    for (int i = 0; i < Math.min(stack.size(), 12); i++) {
                        RecordedFrame f = stack.get(i);
                        frames.merge(f.getMethod().getType().getName() + "." + f.getMethod().getName(), 1L, Long::sum);
                    }
                }
                all++;
            }
        } finally {
            Files.deleteIfExists(file);
        }
        if (Boolean.getBoolean("pgpubsub.bench.frames")) {
            long total = all;
            System.out.println("Top frames (share of samples with the method in the top 12 frames):");
            frames.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(40)
                    .forEach(e -> System.out.printf("  %5.1f %%  %s%n", 100.0 * e.getValue() / total, e.getKey()));
        }
        Map<String, Double> micros = new LinkedHashMap<>();
        double perTask = cpu / 1e3 / tasks;
        micros.put("total", perTask);
        micros.put("execution samples (count)", (double) all);
        long counted = all;
        samples.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> micros.put(e.getKey(), perTask * e.getValue() / counted));
        return micros;
    }

    private static String layer(RecordedStackTrace stack) {
        if (stack == null) {
            return "JDK";
        }
        List<RecordedFrame> frames = stack.getFrames();
        for (RecordedFrame frame : frames) {
            String type = frame.getMethod().getType().getName();
            for (Map.Entry<String, String> layer : LAYERS.entrySet()) {
                if (type.startsWith(layer.getKey())) {
                    return layer.getValue();
                }
            }
            if (!type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun.")
                    && !type.startsWith("com.sun.")) {
                return "other";
            }
        }
        return "JDK";
    }
}
