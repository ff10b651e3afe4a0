package dev.pgpubsub.listener.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatabaseAddressTest {

    @Test
    void theStandardDriversUrlIsTakenApart() {
        DatabaseAddress a = DatabaseAddress.parse("jdbc:postgresql://db.example:6432/shop?user=app&sslmode=verify-full");
        assertThat(a.host()).isEqualTo("db.example");
        assertThat(a.port()).isEqualTo(6432);
        assertThat(a.database()).isEqualTo("shop");
        assertThat(a.parameters()).containsEntry("user", "app").containsEntry("sslmode", "verify-full");
    }

    @Test
    void theDefaultPortIsPostgres() {
        assertThat(DatabaseAddress.parse("jdbc:postgresql://localhost/shop").port()).isEqualTo(5432);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "jdbc:mysql://localhost/shop", "jdbc:postgresql://localhost:5432/", "postgresql://x/y"})
    void aUrlThatIsNotAPostgresDatabaseIsRefused(String url) {
        assertThatThrownBy(() -> DatabaseAddress.parse(url)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdbc:postgresql://localhost:x/shop?user=app&password=s3cret",
        "jdbc:pgsql://app:s3cret@localhost:x/shop", "jdbc:postgresql://localhost/?sslpassword=s3cret",
        "postgresql://app:s3cret@localhost/shop"})
    void aPasswordInTheUrlIsNeverShownInTheMessage(String url) {
        assertThatThrownBy(() -> DatabaseAddress.parse(url)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("****").satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"));
    }

    @Test
    void everyHostOfAMultiHostUrlIsKeptInOrder() {
        DatabaseAddress a = DatabaseAddress.parse("jdbc:postgresql://db1:5432,[::1]:5433,db3/shop?targetServerType=primary");
        assertThat(a.hosts()).containsExactly(new DatabaseAddress.Host("db1", 5432), new DatabaseAddress.Host("::1", 5433),
                new DatabaseAddress.Host("db3", 5432));
        assertThat(a.pgjdbcNgUrl(a.hosts().get(1))).isEqualTo("jdbc:pgsql://[::1]:5433/shop");
    }

    @Test
    void theStandardDriversTlsSettingsReachTheListenConnection() {
        DatabaseAddress a = DatabaseAddress.parse("jdbc:postgresql://db/shop?sslmode=verify-full&sslrootcert=/etc/ca.crt"
                + "&sslcert=/etc/client.crt&sslkey=/etc/client.key&sslpassword=k3y&user=app");
        assertThat(a.requiresTls()).isTrue();
        assertThat(a.listenProperties(null, "pw")).containsEntry("ssl.mode", "VerifyFull")
                .containsEntry("ssl.ca.certificate.file", "/etc/ca.crt").containsEntry("ssl.certificate.file", "/etc/client.crt")
                .containsEntry("ssl.key.file", "/etc/client.key").containsEntry("ssl.key.password", "k3y")
                .containsEntry("user", "app").containsEntry("password", "pw");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sslmode=require", "sslmode=verify-ca", "ssl=true", "ssl.mode=VerifyFull"})
    void tlsIsRequiredWhenTheUrlSaysSo(String setting) {
        assertThat(DatabaseAddress.parse("jdbc:postgresql://db/shop?" + setting).requiresTls()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sslmode=prefer", "sslmode=disable", "user=app"})
    void tlsIsNotRequiredOtherwise(String setting) {
        assertThat(DatabaseAddress.parse("jdbc:postgresql://db/shop?" + setting).requiresTls()).isFalse();
    }

    @Test
    void anUnknownSslModeIsRefusedWithTheValuesThatExist() {
        assertThatThrownBy(() -> DatabaseAddress.parse("jdbc:postgresql://db/shop?sslmode=verify_full"))
                .hasMessageContaining("'verify_full'").hasMessageContaining("verify-full");
    }
}
