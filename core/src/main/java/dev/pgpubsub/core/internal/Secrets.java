package dev.pgpubsub.core.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Passwords masked in database URLs, for every message, log line and printed setting that may show a
 * URL. Both forms are masked: a query parameter ({@code ?password=...}, {@code &sslpassword=...},
 * any key ending in {@code password}, in any case) and the user information of a URL
 * ({@code postgresql://user:secret@host}), in {@code jdbc:postgresql:}, {@code jdbc:pgsql:},
 * {@code postgresql:} and {@code postgres:} URLs. The text around the URLs is left as it is, so a
 * whole message can be passed.
 */
public final class Secrets {

    /** What a password is replaced with. */
    public static final String MASK = "****";

    /** A password parameter and its value, which ends at the next parameter, a blank or a quote. */
    private static final Pattern PARAMETER = Pattern.compile("(?i)([?&;][\\w.-]*password=)[^&\\s'\"]*");
    /** Where the authority of one of our URLs begins. */
    private static final Pattern URL_START = Pattern.compile("(?i)(?:jdbc:postgresql:|jdbc:pgsql:|postgres(?:ql)?:)//");

    private Secrets() {
    }

    /**
     * {@code text} with every password in a database URL masked.
     *
     * @param text a URL, or a message that may quote URLs; or null
     * @return the text with the passwords replaced by {@link #MASK}; null for null
     */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String masked = PARAMETER.matcher(text).replaceAll("$1" + MASK);
        Matcher url = URL_START.matcher(masked);
        StringBuilder out = null;
        int copied = 0;
        while (url.find()) {
            int start = url.end();
            if (start < copied) {
                continue;
            }
            // The authority ends where the path, the query or the URL does; user:secret@ sits at its start.
            int end = start;
            while (end < masked.length() && "/?#'\"<>".indexOf(masked.charAt(end)) < 0
                    && !Character.isWhitespace(masked.charAt(end))) {
                end++;
            }
            int at = masked.lastIndexOf('@', end - 1);
            int colon = masked.indexOf(':', start);
            if (at < start || colon < 0 || colon > at) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(masked.length());
            }
            out.append(masked, copied, colon + 1).append(MASK);
            copied = at;
        }
        if (out == null) {
            return masked;
        }
        return out.append(masked, copied, masked.length()).toString();
    }
}
