package dev.pgpubsub.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.TestServers.Source;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TestServersTest {

    private static final Map<String, String> NOTHING = Map.of();

    @Test
    void aUrlInTheEnvironmentWinsOverDocker() {
        Map<String, String> env = Map.of(TestServers.URL_VARIABLE, "jdbc:postgresql://db:5432/postgres");
        assertThat(TestServers.chooseSource(env::get, NOTHING::get, () -> true)).isEqualTo(Source.URL);
    }

    @Test
    void dockerIsUsedWhenItAnswersAndNoUrlIsGiven() {
        assertThat(TestServers.chooseSource(NOTHING::get, NOTHING::get, () -> true)).isEqualTo(Source.DOCKER);
    }

    @Test
    void embeddedIsTheFallback() {
        Map<String, String> env = Map.of(TestServers.URL_VARIABLE, "  ");
        assertThat(TestServers.chooseSource(env::get, NOTHING::get, () -> false)).isEqualTo(Source.EMBEDDED);
    }

    @Test
    void aSystemPropertyForcesTheSource() {
        Map<String, String> env = Map.of(TestServers.URL_VARIABLE, "jdbc:postgresql://db:5432/postgres");
        Map<String, String> props = Map.of(TestServers.SOURCE_PROPERTY, "Embedded");
        assertThat(TestServers.chooseSource(env::get, props::get, () -> true)).isEqualTo(Source.EMBEDDED);
    }

    @Test
    void anUnknownForcedSourceIsRefusedWithTheChoices() {
        Map<String, String> props = Map.of(TestServers.SOURCE_PROPERTY, "podman");
        assertThatThrownBy(() -> TestServers.chooseSource(NOTHING::get, props::get, () -> false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("podman")
                .hasMessageContaining("url, docker or embedded");
    }

    @Test
    void anUrlThatIsNotAPostgresUrlIsRefusedWithAnExample() {
        assertThatThrownBy(() -> TestServers.external("jdbc:mysql://db/x"))
                .hasMessageContaining("jdbc:mysql://db/x")
                .hasMessageContaining("jdbc:postgresql://localhost:5432/postgres");
    }

    @Test
    void databaseNamesAreUniqueShortAndSafe() {
        String a = PostgresServer.DatabaseNames.next("Some\"Weird; Name".repeat(10));
        String b = PostgresServer.DatabaseNames.next("Some\"Weird; Name".repeat(10));
        assertThat(a).isNotEqualTo(b).matches("[a-z0-9_]+");
        assertThat(a.length()).isLessThanOrEqualTo(63);
    }

    @Test
    void dockerIsNotAskedWhereNoEngineCanBe() {
        java.util.Set<String> files = java.util.Set.of();
        assertThat(TestServers.dockerMayAnswer(NOTHING::get, files::contains, "/home/u", "Linux")).isFalse();
    }

    @Test
    void dockerIsAskedWhereASocketOrASettingNamesAnEngine() {
        assertThat(TestServers.dockerMayAnswer(NOTHING::get, java.util.Set.of("/var/run/docker.sock")::contains,
                "/home/u", "Linux")).isTrue();
        assertThat(TestServers.dockerMayAnswer(NOTHING::get, java.util.Set.of("/home/u/.docker/run/docker.sock")::contains,
                "/home/u", "Mac OS X")).isTrue();
        Map<String, String> rootless = Map.of("XDG_RUNTIME_DIR", "/run/user/1000");
        assertThat(TestServers.dockerMayAnswer(rootless::get, java.util.Set.of("/run/user/1000/docker.sock")::contains,
                "/home/u", "Linux")).isTrue();
        Map<String, String> host = Map.of("DOCKER_HOST", "tcp://docker:2375");
        assertThat(TestServers.dockerMayAnswer(host::get, java.util.Set.<String>of()::contains, "/home/u", "Linux"))
                .isTrue();
        assertThat(TestServers.dockerMayAnswer(NOTHING::get, java.util.Set.<String>of()::contains, "C:/Users/u",
                "Windows 11")).isTrue();
    }
}
