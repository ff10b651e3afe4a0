package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChannelTest {

    record Ping() {
    }

    @ParameterizedTest
    @ValueSource(strings = {"orders", "_private", "Order_Paid2", "a"})
    void validNamesAreAccepted(String name) {
        assertThat(Channel.of(name, Ping.class).name()).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"has space", "semi;colon", "quote\"d", "single'quote", "dash-ed", "dot.ted", "2fast",
            "caf\u00e9", "\u0437\u0430\u043a\u0430\u0437", "orders\n", "$1", "x)); DROP TABLE y; --"})
    void illFormedNamesAreRefusedNamingTheValueAndTheRule(String name) {
        assertThatThrownBy(() -> Channel.of(name, Ping.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + name + "'")
                .hasMessageContaining("ASCII letters, digits and underscores");
    }

    @Test
    void anEmptyOrNullNameIsRefused() {
        assertThatThrownBy(() -> Channel.of("", Ping.class)).hasMessageContaining("empty");
        assertThatThrownBy(() -> Channel.of(null, Ping.class)).hasMessageContaining("empty");
    }

    @Test
    void aNameThatCannotFitAnyInstallationIsRefused() {
        assertThatThrownBy(() -> Channel.of("a".repeat(62), Ping.class))
                .hasMessageContaining("62 bytes")
                .hasMessageContaining("shorter");
    }

    @Test
    void aChannelNeedsAPayloadType() {
        assertThatThrownBy(() -> Channel.of("orders", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'orders'")
                .hasMessageContaining("record class");
    }
}
