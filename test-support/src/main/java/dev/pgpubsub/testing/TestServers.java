package dev.pgpubsub.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * Where the tests' Postgres comes from, in this order:
 * <ol>
 *   <li>the server named by the environment variable {@value #URL_VARIABLE}, when set;</li>
 *   <li>else a container, when a Docker engine answers;</li>
 *   <li>else an embedded server run from binaries that come from Maven Central.</li>
 * </ol>
 * The system property {@value #SOURCE_PROPERTY} ({@code url}, {@code docker} or {@code embedded})
 * forces a choice.
 */
public final class TestServers {

    /** Environment variable naming an existing server, as a {@code jdbc:postgresql:} URL. */
    public static final String URL_VARIABLE = "PGPUBSUB_TEST_JDBC_URL";
    /** System property that forces the source of the server. */
    public static final String SOURCE_PROPERTY = "pgpubsub.test.server";
    /** System property naming where embedded servers unpack binaries and keep data. */
    public static final String WORKDIR_PROPERTY = "pgpubsub.test.workdir";

    private static final Logger LOG = LoggerFactory.getLogger(TestServers.class);

    /** The three places a test server can come from. */
    public enum Source {
        /** An existing server named by a JDBC URL. */
        URL,
        /** A Testcontainers container. */
        DOCKER,
        /** An embedded server started by this JVM. */
        EMBEDDED
    }

    private TestServers() {
    }

    /**
     * Chooses the source from the environment, as described on this class.
     *
     * @param env           looks up an environment variable by name; {@code null} when it is not set
     * @param properties    looks up a system property by name; {@code null} when it is not set
     * @param dockerAnswers tells whether a Docker engine answers; asked only when neither the
     *                      property nor the variable decides
     * @return the source to start a server from
     * @throws IllegalArgumentException when {@value #SOURCE_PROPERTY} names no source
     */
    public static Source chooseSource(UnaryOperator<String> env, UnaryOperator<String> properties,
            BooleanSupplier dockerAnswers) {
        String forced = properties.apply(SOURCE_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            try {
                return Source.valueOf(forced.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-D" + SOURCE_PROPERTY + "=" + forced
                        + " is not a server source; use url, docker or embedded", e);
            }
        }
        String url = env.apply(URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            return Source.URL;
        }
        return dockerAnswers.getAsBoolean() ? Source.DOCKER : Source.EMBEDDED;
    }

    /** Starts (or, for {@link Source#URL}, connects to) the server this environment asks for. */
    static PostgresServer startShared() {
        Source source = chooseSource(System::getenv, System::getProperty, TestServers::dockerAnswers);
        PostgresServer server = start(source);
        LOG.info("Test Postgres: {}", server);
        return server;
    }

    /**
     * Starts a server of the given source.
     *
     * @param source where the server comes from; {@link Source#URL} reads {@value #URL_VARIABLE}
     * @return the running server, which the caller closes
     * @throws IllegalStateException when {@code source} is {@link Source#URL} and {@value #URL_VARIABLE} is not set
     */
    public static PostgresServer start(Source source) {
        return switch (source) {
            case URL -> {
                String url = System.getenv(URL_VARIABLE);
                if (url == null || url.isBlank()) {
                    throw new IllegalStateException("Set " + URL_VARIABLE + " to a jdbc:postgresql: URL to use an existing server");
                }
                yield external(url);
            }
            case DOCKER -> ContainerPostgresServer.start();
            case EMBEDDED -> embedded();
        };
    }

    /**
     * A server named by a {@code jdbc:postgresql:} URL (user and password as URL parameters).
     *
     * @param jdbcUrl the URL of the server; the database it names is the administration database
     * @return the server; closing it leaves it running
     * @throws IllegalArgumentException when {@code jdbcUrl} is not a {@code jdbc:postgresql:} URL
     */
    public static PostgresServer external(String jdbcUrl) {
        return ExternalPostgresServer.fromUrl(jdbcUrl);
    }

    /**
     * Starts a container; fails where no Docker engine answers (see {@link #dockerAnswers()}).
     *
     * @return the running container's server; closing it stops the container
     */
    public static PostgresServer container() {
        return ContainerPostgresServer.start();
    }

    /**
     * Starts a new embedded server, which its owner may stop, restart and kill.
     *
     * @return the running server, its data kept under {@value #WORKDIR_PROPERTY} (or the temporary directory)
     */
    public static EmbeddedPostgresServer embedded() {
        return EmbeddedPostgresServer.start(workDir());
    }

    /**
     * Starts a new embedded server with settings of its own (e.g. {@code ssl=on}), which its owner
     * may stop, restart and kill.
     *
     * @param serverConfig server settings, name to value
     * @return the running server
     */
    public static EmbeddedPostgresServer embedded(java.util.Map<String, String> serverConfig) {
        return EmbeddedPostgresServer.start(workDir(), serverConfig);
    }

    /**
     * Whether a Docker engine answers.
     *
     * @return {@code true} when Testcontainers can reach a Docker engine
     */
    public static boolean dockerAnswers() {
        if (!dockerMayAnswer(System::getenv, p -> Files.exists(Path.of(p)), System.getProperty("user.home"),
                System.getProperty("os.name", ""))) {
            return false; // asking would log an ERROR from Testcontainers, and a test run that goes on anyway
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Whether a Docker engine may answer here: a {@code DOCKER_HOST} or Testcontainers setting names
     * one, or one of the usual sockets exists (Docker, Docker Desktop, rootless Docker, Podman,
     * Colima, Rancher Desktop). On Windows, where the engine is a named pipe, always.
     *
     * @param env    looks up an environment variable; {@code null} when it is not set
     * @param exists whether a file exists at a path
     * @param home   the user's home directory
     * @param osName the operating system's name
     * @return {@code false} when no engine can be there
     */
    static boolean dockerMayAnswer(UnaryOperator<String> env, java.util.function.Predicate<String> exists, String home,
            String osName) {
        if (osName.startsWith("Windows") || notBlank(env.apply("DOCKER_HOST"))
                || notBlank(env.apply("TESTCONTAINERS_HOST_OVERRIDE"))
                || notBlank(env.apply("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"))
                || exists.test(home + "/.testcontainers.properties")) {
            return true;
        }
        String runtime = env.apply("XDG_RUNTIME_DIR");
        List<String> sockets = new java.util.ArrayList<>(List.of("/var/run/docker.sock", "/run/docker.sock",
                home + "/.docker/run/docker.sock", home + "/.docker/desktop/docker.sock",
                home + "/.colima/default/docker.sock", home + "/.colima/docker.sock", home + "/.rd/docker.sock",
                "/run/podman/podman.sock"));
        if (notBlank(runtime)) {
            sockets.add(runtime + "/docker.sock");
            sockets.add(runtime + "/podman/podman.sock");
        }
        return sockets.stream().anyMatch(exists);
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static Path workDir() {
        String dir = System.getProperty(WORKDIR_PROPERTY);
        return dir != null && !dir.isBlank()
                ? Path.of(dir)
                : Path.of(System.getProperty("java.io.tmpdir"), "pgpubsub-embedded-pg");
    }
}
