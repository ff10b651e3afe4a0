package dev.pgpubsub.release;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Internal packages are not API, and the modules should not grow into each other's internals. The
 * few uses that exist are listed here; a new one fails until it is either avoided or listed (with a
 * reason in review).
 */
class InternalImportsTest {

    /** module directory -> the package its own code lives in. */
    private static final Map<String, String> MODULES = Map.of(
            "core", "dev.pgpubsub.core",
            "listener", "dev.pgpubsub.listener",
            "cli", "dev.pgpubsub.cli",
            "test-support", "dev.pgpubsub.testing",
            "examples", "dev.pgpubsub.examples",
            "examples/spring-boot", "dev.pgpubsub.examples.spring",
            "bench", "dev.pgpubsub.bench",
            "spring-boot-starter", "dev.pgpubsub.spring");

    /** "module -> class" uses of another module's internals that are allowed. */
    private static final Set<String> ALLOWED = Set.of(
            // The benchmark's profile charges the samples in the listener's tracing classes to tracing, by name.
            "bench -> dev.pgpubsub.listener.internal.claim.ObservedTasks",
            "bench -> dev.pgpubsub.listener.internal.claim.TraceIds",
            "cli -> dev.pgpubsub.core.internal.ChannelCounts",
            "cli -> dev.pgpubsub.core.internal.Installation",
            "cli -> dev.pgpubsub.core.internal.Names",
            "cli -> dev.pgpubsub.core.internal.NotInstalledException",
            "cli -> dev.pgpubsub.core.internal.PayloadCodec",
            "cli -> dev.pgpubsub.core.internal.Printable",
            "cli -> dev.pgpubsub.core.internal.PublishStatements",
            "cli -> dev.pgpubsub.core.internal.Secrets",
            "cli -> dev.pgpubsub.core.internal.SqlStates",
            "cli -> dev.pgpubsub.listener.internal.Backoff",
            "cli -> dev.pgpubsub.listener.internal.Durations",
            "listener -> dev.pgpubsub.core.internal.Names",
            "listener -> dev.pgpubsub.core.internal.NotInstalledException",
            "listener -> dev.pgpubsub.core.internal.PayloadCodec",
            "listener -> dev.pgpubsub.core.internal.Printable",
            "listener -> dev.pgpubsub.core.internal.Secrets",
            "listener -> dev.pgpubsub.core.internal.SqlStates");

    private static final Pattern INTERNAL = Pattern.compile("\\b(dev\\.pgpubsub\\.[a-z]+\\.internal(?:\\.[a-z]+)*\\.[A-Z]\\w*)");

    @Test
    void noModuleUsesAnotherModulesInternalsBeyondTheListedOnes() throws IOException {
        Set<String> found = new TreeSet<>();
        for (Map.Entry<String, String> module : MODULES.entrySet()) {
            Path sources = Staged.root().resolve(module.getKey()).resolve("src/main/java");
            assertThat(sources).as("sources of module " + module.getKey()).isDirectory();
            try (Stream<Path> files = Files.walk(sources)) {
                for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))::iterator) {
                    Matcher m = INTERNAL.matcher(Files.readString(file));
                    while (m.find()) {
                        String used = m.group(1);
                        if (!used.startsWith(module.getValue() + ".")) {
                            found.add(module.getKey() + " -> " + used);
                        }
                    }
                }
            }
        }
        assertThat(found).as("uses of another module's internal packages (list a new one in ALLOWED only "
                + "if it cannot be avoided; remove an entry that is no longer used)").isEqualTo(new TreeSet<>(ALLOWED));
    }
}
