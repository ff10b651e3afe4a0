package dev.pgpubsub.listener;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM running a main class from the test classpath. It speaks in lines starting with
 * {@value #PREFIX} on stdout; its other output is echoed. Closing its stdin asks it to stop.
 */
final class ForkedJvm implements AutoCloseable {

    static final String PREFIX = "PGPUBSUB-CHILD ";

    private final Process process;
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>(1_000);

    private ForkedJvm(Process process) {
        this.process = process;
        Thread reader = new Thread(this::readOutput, "forked-jvm-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static ForkedJvm start(Class<?> main, List<String> jvmArgs, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow"); // Netty, inside pgjdbc-ng
        }
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        return new ForkedJvm(builder.start());
    }

    /** Waits for the next message (a line after the prefix) from the child. */
    String await(Duration timeout) throws InterruptedException {
        String message = messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (message == null) {
            throw new AssertionError("The forked JVM said nothing within " + timeout + " (alive: " + process.isAlive() + ")");
        }
        return message;
    }

    /** Waits for a message starting with {@code start}, skipping others. */
    String awaitStartingWith(String start, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String message = await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (message.startsWith(start)) {
                return message;
            }
        }
    }

    /** Asks the child to stop (closes its stdin) and waits for it to exit; returns its exit code. */
    int stop(Duration timeout) throws IOException, InterruptedException {
        process.getOutputStream().close();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("The forked JVM did not stop within " + timeout);
        }
        return process.exitValue();
    }

    /** Kills the child at once (SIGKILL), as a crash would. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }

    private void readOutput() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(PREFIX)) {
                    messages.offer(line.substring(PREFIX.length()));
                } else {
                    System.out.println("[child " + process.pid() + "] " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
