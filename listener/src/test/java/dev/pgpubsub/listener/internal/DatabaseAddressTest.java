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

    @Test
    void aPasswordInTheUrlIsNeverShown() {
        assertThat(DatabaseAddress.redact("jdbc:postgresql://localhost/shop?user=app&password=s3cret"))
                .doesNotContain("s3cret");
    }
}
