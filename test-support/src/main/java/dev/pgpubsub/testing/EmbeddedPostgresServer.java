package dev.pgpubsub.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A Postgres server run by this JVM from binaries that come from Maven Central: no Docker and no
 * local installation needed. Its port and data directory stay fixed for its whole life, so a test
 * may {@link #stop()}, {@link #start()}, {@link #restart()} or {@link #kill()} it and then
 * reconnect to the same address and find its committed data.
 */
public final class EmbeddedPostgresServer implements PostgresServer {

    /** How long a start (including crash recovery after {@link #kill()}) may take. */
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
    private static final Duration KILL_WAIT = Duration.ofSeconds(30);

    private final Path workDir;
    private final Path dataDir;
    private final int port;
    private final Map<String, String> serverConfig;
    private EmbeddedPostgres running;

    private EmbeddedPostgresServer(Path workDir, Path dataDir, int port, Map<String, String> serverConfig) {
        this.workDir = workDir;
        this.dataDir = dataDir;
        this.port = port;
        this.serverConfig = Map.copyOf(serverConfig);
    }

    /**
     * Initializes a new data directory under {@code workDir} and starts a server on a free port.
     *
     * @param workDir where binaries are unpacked and data directories are kept
     * @return the running server
     * @throws java.io.UncheckedIOException when the directories cannot be created or the server cannot start
     */
    public static EmbeddedPostgresServer start(Path workDir) {
        return start(workDir, Map.of());
    }

    /**
     * Like {@link #start(Path)}, with settings of the server's own (e.g. {@code ssl=on} and its
     * certificate files), kept across restarts.
     *
     * @param workDir      where binaries are unpacked and data directories are kept
     * @param serverConfig server settings, name to value
     * @return the running server
     * @throws java.io.UncheckedIOException when the directories cannot be created or the server cannot start
     */
    public static EmbeddedPostgresServer start(Path workDir, Map<String, String> serverConfig) {
        try {
            Files.createDirectories(workDir);
            Path dataDir = workDir.resolve("data-" + UUID.randomUUID());
            EmbeddedPostgresServer server = new EmbeddedPostgresServer(workDir, dataDir, freePort(), serverConfig);
            server.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start an embedded Postgres under " + workDir, e);
        }
    }

    /**
     * A hot standby of this server's data as it is now, on a port of its own: this server is stopped
     * while its data directory is copied (a base backup of a cleanly stopped server), then started
     * again, and the copy starts with {@code standby.signal}, so it stays in recovery, read-only. It
     * follows no primary: it serves the data of the moment it was made.
     *
     * @return the running standby
     * @throws java.io.UncheckedIOException when the copy or a start fails
     */
    public synchronized EmbeddedPostgresServer standbyCopy() {
        stop();
        Path copyDir = workDir.resolve("data-" + UUID.randomUUID());
        try {
            try (Stream<Path> files = Files.walk(dataDir)) {
                for (Path from : (Iterable<Path>) files::iterator) {
                    Path to = copyDir.resolve(dataDir.relativize(from).toString());
                    if (Files.isDirectory(from)) {
                        Files.createDirectories(to);
                        Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(from)); // the server wants 0700
                    } else if (!from.getFileName().toString().equals("postmaster.pid")) {
                        Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
            Files.createFile(copyDir.resolve("standby.signal"));
            start();
            EmbeddedPostgresServer standby = new EmbeddedPostgresServer(workDir, copyDir, freePort(), serverConfig);
            standby.start();
            return standby;
        } catch (IOException e) {
            start();
            throw new UncheckedIOException("Could not make a standby copy of " + dataDir, e);
        }
    }

    /** Starts the server again on the same port and data directory; a no-op when it runs. */
    public synchronized void start() {
        if (running != null) {
            return;
        }
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            serverConfig.forEach(builder::setServerConfig);
            running = builder
                    .setOverrideWorkingDirectory(workDir.toFile())
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setPGStartupWait(STARTUP_WAIT)
                    // Durable commits: the fault tests kill the server and count what survived.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "300")
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the embedded Postgres in " + dataDir, e);
        }
    }

    /** Stops the server the way {@code pg_ctl stop -m fast} does: sessions end, data is kept. */
    public synchronized void stop() {
        if (running == null) {
            return;
        }
        try {
            running.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not stop the embedded Postgres in " + dataDir, e);
        } finally {
            running = null;
        }
    }

    /** {@link #stop()} then {@link #start()}. */
    public synchronized void restart() {
        stop();
        start();
    }

    /**
     * Kills the postmaster and every server process with SIGKILL, as a crash would, and waits until
     * they are gone. Committed data survives; {@link #start()} runs crash recovery.
     */
    public synchronized void kill() {
        if (running == null) {
            return;
        }
        ProcessHandle postmaster = ProcessHandle.of(postmasterPid())
                .orElseThrow(() -> new IllegalStateException("No postmaster process for " + dataDir));
        List<ProcessHandle> all = Stream.concat(Stream.of(postmaster), postmaster.descendants()).toList();
        all.forEach(ProcessHandle::destroyForcibly);
        CompletableFuture<?>[] exits = all.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(exits).get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for killed Postgres processes", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Killed Postgres processes did not exit within " + KILL_WAIT, e);
        }
        // Releases the data directory lock; its attempt to stop the dead server fails harmlessly.
        stop();
    }

    /**
     * Stops the server the way {@code pg_ctl stop -m immediate} does (SIGQUIT to the postmaster):
     * sessions are cut without a checkpoint, so {@link #start()} runs crash recovery.
     */
    public synchronized void stopImmediately() {
        if (running == null) {
            return;
        }
        ProcessHandle postmaster = ProcessHandle.of(postmasterPid())
                .orElseThrow(() -> new IllegalStateException("No postmaster process for " + dataDir));
        try {
            Process quit = new ProcessBuilder("kill", "-QUIT", Long.toString(postmaster.pid())).inheritIO().start();
            if (!quit.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS) || quit.exitValue() != 0) {
                throw new IllegalStateException("Could not send SIGQUIT to the postmaster " + postmaster.pid());
            }
            postmaster.onExit().get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while stopping Postgres", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("The postmaster did not exit within " + KILL_WAIT + " of SIGQUIT", e);
        }
        stop(); // releases the data directory lock; its attempt to stop the stopped server fails harmlessly
    }

    /**
     * Whether the server was started and not stopped or killed since.
     *
     * @return {@code true} while the server runs
     */
    public synchronized boolean isRunning() {
        return running != null;
    }

    /**
     * The process id of the postmaster, read from its {@code postmaster.pid} file.
     *
     * @return the postmaster's process id
     * @throws java.io.UncheckedIOException when the server is not running
     */
    public long postmasterPid() {
        try (Stream<String> lines = Files.lines(dataDir.resolve("postmaster.pid"))) {
            return Long.parseLong(lines.findFirst().orElseThrow().trim());
        } catch (IOException e) {
            throw new UncheckedIOException("The server in " + dataDir + " is not running", e);
        }
    }

    @Override
    public String host() {
        return "localhost";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String user() {
        return "postgres";
    }

    @Override
    public String password() {
        return "";
    }

    @Override
    public String adminDatabase() {
        return "postgres";
    }

    /** Stops the server and deletes its data directory. */
    @Override
    public synchronized void close() {
        stop();
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete " + dataDir, e);
        }
    }

    @Override
    public String toString() {
        return "embedded Postgres on port " + port + " (" + dataDir + ")";
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
