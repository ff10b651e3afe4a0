package dev.pgpubsub.core.internal;

/**
 * Text from task data made safe to log, store as an error and print on a terminal: control
 * characters (line breaks and terminal escapes among them) and the Unicode characters that reorder
 * or separate lines are written as escapes ({@code \n}, {@code \u001b}). Anyone who can publish a
 * task chooses its payload, and mapping errors and handler exceptions quote it: unescaped, it could
 * forge log lines or drive the terminal of an operator who lists dead letters.
 */
public final class Printable {

    private Printable() {
    }

    /**
     * {@code text} with every unsafe character escaped.
     *
     * @param text any text, or null
     * @return the text, escaped; null for null
     */
    public static String escape(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!unsafe(c)) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out == null ? text : out.toString();
    }

    private static boolean unsafe(char c) {
        return Character.isISOControl(c)
                || c == '\u2028' || c == '\u2029' // line and paragraph separators
                || c == '\u200e' || c == '\u200f' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }
}
