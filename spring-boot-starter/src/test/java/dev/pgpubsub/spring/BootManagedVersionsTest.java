package dev.pgpubsub.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The starter's tests run on the versions that Spring Boot manages, as an application on Spring
 * Boot does, so that any skew between them and the library's own shows up here: each library below,
 * as loaded by these tests, is at the version that Spring Boot's BOM names.
 */
class BootManagedVersionsTest {

    @ParameterizedTest(name = "{1}:{2} is at Spring Boot''s {0}")
    @CsvSource({
            "jackson-bom.version, tools.jackson.core, jackson-databind",
            "flyway.version, org.flywaydb, flyway-core",
            "jooq.version, org.jooq, jooq",
            "netty.version, io.netty, netty-common",
            "postgresql.version, org.postgresql, postgresql",
            "hikaricp.version, com.zaxxer, HikariCP",
            "slf4j.version, org.slf4j, slf4j-api",
            "logback.version, ch.qos.logback, logback-classic",
            "logback.version, ch.qos.logback, logback-core",
            "spring-framework.version, org.springframework, spring-tx"})
    void theTestsRunOnSpringBootsVersion(String property, String groupId, String artifactId) throws IOException {
        assertThat(loaded(groupId, artifactId))
                .as("the version of %s:%s on the tests' classpath; set the starter pom's property to Spring Boot's",
                        groupId, artifactId)
                .isEqualTo(bomProperty(property));
    }

    /** The version of an artifact on the test classpath, from the pom.properties in its jar. */
    private static String loaded(String groupId, String artifactId) throws IOException {
        String path = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        URL url = BootManagedVersionsTest.class.getClassLoader().getResource(path);
        if (url == null) {
            // The driver's jar and Spring's carry no pom.properties, but name their version elsewhere.
            if (groupId.equals("org.postgresql")) {
                return org.postgresql.util.DriverInfo.DRIVER_VERSION;
            }
            if (groupId.equals("org.springframework")) {
                return org.springframework.transaction.PlatformTransactionManager.class.getPackage()
                        .getImplementationVersion();
            }
            throw new AssertionError(groupId + ":" + artifactId + " is not on the tests' classpath (no " + path + ")");
        }
        Properties p = new Properties();
        try (InputStream in = url.openStream()) {
            p.load(in);
        }
        return p.getProperty("version");
    }

    /** A property of Spring Boot's BOM, copied beside the tests by the build. */
    private static String bomProperty(String name) throws IOException {
        try (InputStream in = BootManagedVersionsTest.class.getResourceAsStream("/spring-boot-dependencies.pom")) {
            assertThat(in).as("spring-boot-dependencies.pom beside the tests (copied by the build)").isNotNull();
            String pom = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</" + Pattern.quote(name) + ">").matcher(pom);
            assertThat(m.find()).as("property %s in Spring Boot's BOM", name).isTrue();
            return m.group(1).trim();
        }
    }
}
