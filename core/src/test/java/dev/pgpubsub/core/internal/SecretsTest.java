package dev.pgpubsub.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SecretsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "jdbc:postgresql://db:5432/shop?user=app&password=s3cret | jdbc:postgresql://db:5432/shop?user=app&password=****",
        "jdbc:postgresql://db/shop?password=s3cret&sslmode=require | jdbc:postgresql://db/shop?password=****&sslmode=require",
        "jdbc:postgresql://db/shop?sslmode=verify-full&sslpassword=s3cret | jdbc:postgresql://db/shop?sslmode=verify-full&sslpassword=****",
        "jdbc:pgsql://db/shop?PASSWORD=s3cret | jdbc:pgsql://db/shop?PASSWORD=****",
        "postgresql://app:s3cret@db:5432/shop | postgresql://app:****@db:5432/shop",
        "postgres://app:s3cret@db/shop?sslmode=require | postgres://app:****@db/shop?sslmode=require",
        "jdbc:postgresql://app:s3cret@db/shop | jdbc:postgresql://app:****@db/shop",
        "jdbc:pgsql://app:s3cret@[::1]:5432/shop | jdbc:pgsql://app:****@[::1]:5432/shop",
        "postgresql://app:s3c@ret@db/shop | postgresql://app:****@db/shop",
        "postgresql://app:s3cret@db/shop?password=other | postgresql://app:****@db/shop?password=****",
    })
    void passwordsInUrlsAreMasked(String url, String redacted) {
        assertThat(Secrets.redact(url)).isEqualTo(redacted).doesNotContain("s3c").doesNotContain("ret@").doesNotContain("other");
    }

    @Test
    void everyUrlOfAMessageIsMaskedAndTheRestIsKept() {
        String message = "--jdbc-url 'postgresql://app:s3cret@db/shop' is not a Postgres JDBC URL (nor is "
                + "\"jdbc:mysql://x/y?password=two\"); try jdbc:postgresql://db/shop?user=app&password=three";
        assertThat(Secrets.redact(message)).isEqualTo("--jdbc-url 'postgresql://app:****@db/shop' is not a Postgres JDBC URL "
                + "(nor is \"jdbc:mysql://x/y?password=****\"); try jdbc:postgresql://db/shop?user=app&password=****");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "jdbc:postgresql://db:5432/shop?user=app@corp&sslmode=require",
        "jdbc:postgresql://db.example:6432/shop",
        "postgresql://app@db/shop",
        "password = ****  (env PGPUBSUB_PASSWORD)",
        "Could not connect: FATAL: password authentication failed for user \"app\"",
    })
    void textWithoutAPasswordIsLeftAsItIs(String text) {
        assertThat(Secrets.redact(text)).isEqualTo(text);
    }

    @Test
    void nullStaysNull() {
        assertThat(Secrets.redact(null)).isNull();
    }
}
