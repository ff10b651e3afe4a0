package dev.pgpubsub.release;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build staged the published modules, and what it says about them. */
final class Staged {

    /** The published jar modules: artifact id and module name. */
    static final String[][] JAR_MODULES = {
        {"pgpubsub-core", "dev.pgpubsub.core"},
        {"pgpubsub-listener", "dev.pgpubsub.listener"},
        {"pgpubsub-cli", "dev.pgpubsub.cli"},
        {"pgpubsub-test-support", "dev.pgpubsub.testing"},
        {"pgpubsub-spring-boot-starter", "dev.pgpubsub.spring"},
    };

    private Staged() {
    }

    static Path root() {
        return Path.of(property("pgpubsub.root"));
    }

    static Path repository() {
        return Path.of(property("pgpubsub.staging.repo"));
    }

    static String version() {
        return property("pgpubsub.build.version");
    }

    /** The newest staged file of an artifact, e.g. ("pgpubsub-core", "-sources.jar"). */
    static Path file(String artifactId, String suffix) throws Exception {
        Path dir = repository().resolve("dev/pgpubsub").resolve(artifactId).resolve(version());
        if (!Files.isDirectory(dir)) {
            throw new AssertionError("Nothing staged for " + artifactId + " in " + dir + ": run the build's verify phase");
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(artifactId + "-"))
                    .filter(f -> f.getFileName().toString().endsWith(suffix))
                    .filter(f -> suffix.startsWith("-") || !f.getFileName().toString()
                            .matches(".*-(sources|javadoc)\\.jar"))
                    .max(Path::compareTo)
                    .orElseThrow(() -> new AssertionError("No " + artifactId + "*" + suffix + " in " + dir));
        }
    }

    static String property(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new AssertionError("The build sets system property " + name + "; run these tests through Maven");
        }
        return value;
    }
}
