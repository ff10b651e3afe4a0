package dev.pgpubsub.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrintableTest {

    @Test
    void controlCharactersLineBreaksAndReorderingMarksAreEscaped() {
        assertThat(Printable.escape("a\nb\r\tc")).isEqualTo("a\\nb\\r\\tc");
        assertThat(Printable.escape("\u001b[31mred\u0007")).isEqualTo("\\u001b[31mred\\u0007");
        assertThat(Printable.escape("x\u2028y\u202ez\u2066")).isEqualTo("x\\u2028y\\u202ez\\u2066");
        assertThat(Printable.escape("\u0085\u009b")).isEqualTo("\\u0085\\u009b");
    }

    @Test
    void printableTextIsLeftAsItIs() {
        String text = "Order 42: café, 日本語, emoji \uD83D\uDE00, quotes \"'\\";
        assertThat(Printable.escape(text)).isSameAs(text);
        assertThat(Printable.escape("")).isEmpty();
        assertThat(Printable.escape(null)).isNull();
    }
}
