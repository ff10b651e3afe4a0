package dev.pgpubsub.release;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** What a release would publish, as the build staged it: jars, POMs, BOM and distribution. */
class StagedArtifactsTest {

    /** Java 17's class file version: nothing published may need a newer JVM. */
    private static final int JAVA_17 = 61;

    @Test
    void everyClassFileOfEveryPublishedJarRunsOnJava17() throws Exception {
        for (String[] module : Staged.JAR_MODULES) {
            Path jar = Staged.file(module[0], ".jar");
            int classes = 0;
            try (JarFile file = new JarFile(jar.toFile())) {
                for (Enumeration<? extends ZipEntry> e = file.entries(); e.hasMoreElements(); ) {
                    ZipEntry entry = e.nextElement();
                    if (entry.getName().endsWith(".class")) {
                        assertThat(majorVersion(file.getInputStream(entry))).as(jar.getFileName() + "!" + entry.getName())
                                .isLessThanOrEqualTo(JAVA_17);
                        classes++;
                    }
                }
            }
            assertThat(classes).as("class files in " + jar.getFileName()).isPositive();
        }
    }

    @Test
    void everyJarCarriesTheLicenseAndEveryMainJarItsModuleName() throws Exception {
        String license = Files.readString(Staged.root().resolve("LICENSE"));
        assertThat(license).contains("Apache License", "Version 2.0, January 2004");
        for (String[] module : Staged.JAR_MODULES) {
            for (String suffix : List.of(".jar", "-sources.jar", "-javadoc.jar")) {
                Path jar = Staged.file(module[0], suffix);
                try (JarFile file = new JarFile(jar.toFile())) {
                    ZipEntry entry = file.getEntry("META-INF/LICENSE");
                    assertThat(entry).as("META-INF/LICENSE in " + jar.getFileName()).isNotNull();
                    assertThat(new String(file.getInputStream(entry).readAllBytes())).isEqualTo(license);
                    if (suffix.equals(".jar")) {
                        assertThat(file.getManifest().getMainAttributes().getValue("Automatic-Module-Name"))
                                .as("Automatic-Module-Name of " + jar.getFileName()).isEqualTo(module[1]);
                    }
                }
            }
        }
    }

    @Test
    void theJavadocShowsTheApiAndNoInternalPackage() throws Exception {
        for (String[] module : Staged.JAR_MODULES) {
            Path jar = Staged.file(module[0], "-javadoc.jar");
            List<String> pages = new ArrayList<>();
            try (JarFile file = new JarFile(jar.toFile())) {
                file.stream().map(ZipEntry::getName).filter(n -> n.endsWith(".html")).forEach(pages::add);
            }
            assertThat(pages).as(jar.getFileName().toString()).contains("index.html")
                    .noneMatch(page -> page.contains("/internal/"));
        }
        try (JarFile file = new JarFile(Staged.file("pgpubsub-listener", "-javadoc.jar").toFile())) {
            assertThat(file.getEntry("dev/pgpubsub/listener/Listener.html")).isNotNull();
        }
    }

    @Test
    void buildsAreReproducibleEveryEntryHasTheBuildsTimestamp() throws Exception {
        FileTime expected = FileTime.from(java.time.Instant.parse(Staged.property("pgpubsub.build.timestamp")));
        for (String[] module : Staged.JAR_MODULES) {
            Path jar = Staged.file(module[0], ".jar");
            Set<FileTime> times = new HashSet<>();
            try (JarFile file = new JarFile(jar.toFile())) {
                file.stream().forEach(entry -> times.add(entry.getLastModifiedTime()));
            }
            assertThat(times).as("entry times of " + jar.getFileName()).containsOnly(expected);
        }
    }

    @Test
    void everyPublishedPomHasTheMetadataCentralAsksFor() throws Exception {
        for (String artifact : List.of("pgpubsub-parent", "pgpubsub-bom")) {
            Element pom = pom(artifact);
            for (String element : List.of("name", "description", "url")) {
                assertThat(text(pom, element)).as(artifact + " <" + element + ">").isNotBlank();
            }
            assertThat(text(pom, "licenses")).as(artifact + " licenses").contains("Apache-2.0");
            assertThat(text(pom, "scm")).as(artifact + " scm").contains("scm:git:");
            assertThat(text(pom, "developers")).as(artifact + " developers").isNotBlank();
        }
        for (String[] module : Staged.JAR_MODULES) {
            Element pom = pom(module[0]);
            assertThat(text(pom, "name")).as(module[0] + " <name>").isNotBlank();
            assertThat(text(pom, "description")).as(module[0] + " <description>").isNotBlank();
            assertThat(text((Element) pom.getElementsByTagName("parent").item(0), "artifactId"))
                    .as(module[0] + " inherits url, licenses, scm and developers").isEqualTo("pgpubsub-parent");
        }
    }

    @Test
    void theBomManagesEveryPublishedModuleAndNothingElse() throws Exception {
        Element bom = pom("pgpubsub-bom");
        assertThat(bom.getElementsByTagName("parent").getLength()).as("the BOM has no parent").isZero();
        assertThat(text(bom, "version")).isEqualTo(Staged.version());
        NodeList managed = ((Element) bom.getElementsByTagName("dependencyManagement").item(0))
                .getElementsByTagName("dependency");
        Set<String> artifacts = new HashSet<>();
        for (int i = 0; i < managed.getLength(); i++) {
            Element dependency = (Element) managed.item(i);
            assertThat(text(dependency, "groupId")).isEqualTo("dev.pgpubsub");
            assertThat(text(dependency, "version")).isIn("${project.version}", Staged.version());
            artifacts.add(text(dependency, "artifactId"));
        }
        List<String> published = new ArrayList<>();
        for (String[] module : Staged.JAR_MODULES) {
            published.add(module[0]);
        }
        assertThat(artifacts).containsExactlyInAnyOrderElementsOf(published);
    }

    @Test
    void theDistributionCarriesTheLicenseTheLauncherAndTheLibraries() throws Exception {
        Path tarball = Staged.file("pgpubsub-cli", ".tar.gz");
        List<String> names = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tarball))) {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String name = new String(header, 0, 100).trim().replace("\0", "");
                String prefix = new String(header, 345, 155).trim().replace("\0", "");
                names.add(prefix.isEmpty() ? name : prefix + "/" + name);
                long size = Long.parseLong(new String(header, 124, 11).trim(), 8);
                in.skipNBytes((size + 511) / 512 * 512);
            }
        }
        String base = "pgpubsub-" + Staged.version() + "/";
        assertThat(names).contains(base + "LICENSE", base + "bin/pgpubsub")
                .anyMatch(n -> n.startsWith(base + "lib/pgpubsub-listener-"));
    }

    private static int majorVersion(InputStream classFile) throws Exception {
        try (DataInputStream in = new DataInputStream(classFile)) {
            assertThat(in.readInt()).isEqualTo(0xCAFEBABE);
            in.readUnsignedShort();
            return in.readUnsignedShort();
        }
    }

    private static Element pom(String artifactId) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document document = factory.newDocumentBuilder().parse(Staged.file(artifactId, ".pom").toFile());
        return document.getDocumentElement();
    }

    /** The text of the first direct child {@code name} of {@code parent}, or "" when it has none. */
    private static String text(Element parent, String name) {
        for (var node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element && element.getTagName().equals(name)) {
                return element.getTextContent().trim();
            }
        }
        return "";
    }
}
