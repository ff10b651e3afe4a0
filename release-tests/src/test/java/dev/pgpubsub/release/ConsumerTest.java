package dev.pgpubsub.release;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Applications built against the staged repository alone, as a user would build them: with a local
 * repository of their own (so no pgpubsub artifact can come from the developer's), on this JVM.
 */
@PostgresTest
class ConsumerTest {

    private static final Path WORK = Path.of("target", "consumers").toAbsolutePath();
    private static final Path LOCAL_REPOSITORY = WORK.resolve("m2");
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final TestDatabase db;

    ConsumerTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void freshLocalRepository() throws IOException {
        deleteTree(LOCAL_REPOSITORY);
        seedFromUserRepository();
    }

    @BeforeEach
    void noTableOfAnEarlierConsumer() throws SQLException {
        db.execute("DROP TABLE IF EXISTS greeted");
    }

    @Test
    void anApplicationWithoutJooqPublishesAndHandlesATask() throws Exception {
        Build run = maven("plain", "-q", "compile", "exec:java", "-Dconsumer.url=" + db.jdbcUrl(), "-Dconsumer.user=" + db.user(),
                "-Dconsumer.password=" + db.password());
        assertThat(run.output()).contains("CONSUMER jooq absent", "CONSUMER handled plain");
        assertThat(run.code()).as(run.output()).isZero();
        assertPgpubsubCameFromTheStagingRepository();
    }

    @Test
    void anApplicationWithJooq319UsesTheJooqApi() throws Exception {
        Build run = maven("jooq", "-q", "compile", "exec:java", "-Dconsumer.url=" + db.jdbcUrl(), "-Dconsumer.user=" + db.user(),
                "-Dconsumer.password=" + db.password());
        assertThat(run.output()).contains("CONSUMER jooq 3.19", "CONSUMER handled jooq");
        assertThat(run.code()).as(run.output()).isZero();
        assertPgpubsubCameFromTheStagingRepository();
    }

    @Test
    void aSpringBootApplicationRunsItsHandlerBeanOnSpringBootsVersions() throws Exception {
        db.execute("DROP TABLE IF EXISTS greeted");
        Build run = maven("spring", "-q", "compile", "exec:java", "-Dspring.datasource.url=" + db.jdbcUrl(),
                "-Dspring.datasource.username=" + db.user(), "-Dspring.datasource.password=" + db.password(),
                "-Dspring.main.banner-mode=off");
        assertThat(run.code()).as(run.output()).isZero();
        // Spring Boot 4.0.7's versions, which its parent makes win over the library's own.
        assertThat(run.output()).contains("CONSUMER handled spring", "CONSUMER jackson 3.1.4", "CONSUMER netty 4.2.15.Final");
        assertPgpubsubCameFromTheStagingRepository();
    }

    @Test
    void aPlainConsumerGetsThePatchedNettyAndItsOwnManagementWins() throws Exception {
        String netty = Staged.property("pgpubsub.netty.version");
        Build plain = maven("plain", "dependency:tree", "-Dincludes=io.netty,org.jooq");
        assertThat(plain.code()).as(plain.output()).isZero();
        assertThat(plain.output()).contains("io.netty:netty-handler:jar:" + netty, "io.netty:netty-common:jar:" + netty)
                .doesNotContain("4.1.63.Final").doesNotContain("org.jooq");
        Build managed = maven("plain", "dependency:tree", "-Dincludes=io.netty", "-Pmanaged-netty");
        assertThat(managed.code()).as(managed.output()).isZero();
        assertThat(managed.output()).contains("io.netty:netty-handler:jar:4.1.118.Final").doesNotContain(netty);
    }

    /** The outcome of one Maven run: exit code, and stdout and stderr together. */
    record Build(int code, String output) {
    }

    private static Build maven(String project, String... goals) throws Exception {
        Path root = Staged.root();
        boolean windows = System.getProperty("os.name").startsWith("Windows");
        List<String> command = new ArrayList<>();
        command.add(root.resolve(windows ? "mvnw.cmd" : "mvnw").toString());
        command.addAll(List.of("-B", "-ntp",
                "-f", copyOf(project).resolve("pom.xml").toString(),
                "-Dmaven.repo.local=" + LOCAL_REPOSITORY,
                "-Dpgpubsub.version=" + Staged.version(),
                "-Dpgpubsub.staging.url=" + Staged.repository().toUri(),
                "-Dorg.jooq.no-logo=true", "-Dorg.jooq.no-tips=true"));
        command.addAll(List.of(goals));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("MAVEN_ARGS");
        Path log = Files.createDirectories(WORK).resolve(project + "-" + RUNS.incrementAndGet() + ".log");
        builder.redirectOutput(log.toFile());
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("The " + project + " consumer's build did not finish in 10 minutes; see " + log);
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        return new Build(process.exitValue(), output);
    }

    /** A copy of a consumer project under target/, so that its build writes nothing into the sources. */
    private static Path copyOf(String project) throws IOException {
        Path source = Path.of("src/test/consumers", project).toAbsolutePath();
        Path copy = WORK.resolve(project);
        try (Stream<Path> files = Files.walk(source)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                Path target = copy.resolve(source.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return copy;
    }

    /** Every pgpubsub artifact in the consumers' local repository was downloaded from the staging repository. */
    private static void assertPgpubsubCameFromTheStagingRepository() throws IOException {
        Path ours = LOCAL_REPOSITORY.resolve("dev/pgpubsub");
        List<Path> markers;
        try (Stream<Path> files = Files.walk(ours)) {
            markers = files.filter(f -> f.getFileName().toString().equals("_remote.repositories")
                    || f.getFileName().toString().equals("resolver-status.properties")
                    || f.getFileName().toString().startsWith("maven-metadata-")).toList();
        }
        assertThat(markers).as("download records under " + ours).isNotEmpty();
        for (Path marker : markers) {
            String name = marker.getFileName().toString();
            if (name.startsWith("maven-metadata-")) {
                assertThat(name).as(marker.toString()).startsWith("maven-metadata-staging.xml");
            } else if (name.equals("_remote.repositories")) {
                assertThat(Files.readAllLines(marker)).as(marker.toString())
                        .filteredOn(line -> !line.startsWith("#")).allMatch(line -> line.endsWith(">staging="));
            }
        }
    }

    /**
     * Hard-links the user's local repository, without any pgpubsub artifact, into the consumers' own,
     * so that third-party artifacts need not be downloaded again. Skipped where links cannot be made.
     */
    private static void seedFromUserRepository() throws IOException {
        Path user = Path.of(System.getProperty("user.home"), ".m2", "repository");
        if (!Files.isDirectory(user)) {
            return;
        }
        Path excluded = user.resolve("dev").resolve("pgpubsub");
        try (Stream<Path> files = Files.walk(user)) {
            files.filter(Files::isRegularFile).filter(f -> !f.startsWith(excluded)).forEach(f -> {
                Path target = LOCAL_REPOSITORY.resolve(user.relativize(f).toString());
                try {
                    Files.createDirectories(target.getParent());
                    Files.createLink(target, f);
                } catch (FileAlreadyExistsException e) {
                    // linked already
                } catch (IOException | UnsupportedOperationException e) {
                    throw new UncheckedIOException(new IOException("Could not link " + f + " (" + e + ")"));
                }
            });
        } catch (UncheckedIOException e) {
            deleteTree(LOCAL_REPOSITORY); // another file system: let the consumers download instead
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.sorted((a, b) -> b.getNameCount() - a.getNameCount())::iterator) {
                Files.delete(f);
            }
        }
    }
}
