package dev.pgpubsub.listener.internal.guard;

import java.util.Locale;

/**
 * Finds SQL that would end or escape the transaction it runs in: {@code COMMIT}, {@code END},
 * {@code ROLLBACK} (but not {@code ROLLBACK TO} a savepoint, unless it is the listener's own,
 * {@link #HANDLERS_SAVEPOINT}, which {@code RELEASE} may not name either), {@code ABORT}, {@code BEGIN},
 * {@code START TRANSACTION}, the two-phase commands, and the session-level settings of how later
 * transactions run ({@code SET SESSION CHARACTERISTICS}, {@code SET default_transaction_...}),
 * which would reach the listener's next claims on that connection. Every statement of a multi-statement string
 * is looked at; comments, string literals, quoted names and dollar-quoted bodies are skipped, so
 * {@code SELECT 'commit'} or a function body passes.
 */
public final class TransactionControl {

    /**
     * The savepoint the listener opens before a claim's handlers run: rolling back to it or releasing
     * it would reach past the handler's own work, into its batch-mates'.
     */
    public static final String HANDLERS_SAVEPOINT = "pgpubsub_handlers";

    private TransactionControl() {
    }

    /**
     * The transaction-control command in {@code sql}, or null when there is none.
     *
     * @param sql one or more SQL statements
     * @return the offending command, e.g. {@code "COMMIT"} or {@code "ROLLBACK"}, or null
     */
    public static String find(String sql) {
        if (sql == null) {
            return null;
        }
        Scanner s = new Scanner(sql);
        while (true) {
            String first = s.word();
            String command = first == null ? null : command(first, s);
            if (command != null) {
                return command;
            }
            if (!s.skipToNextStatement()) {
                return null;
            }
        }
    }

    /** The refused command a statement starts with (its first word already read), or null. */
    private static String command(String first, Scanner s) {
        switch (first) {
            case "COMMIT", "END", "ABORT", "BEGIN":
                return first;
            case "START":
                return "TRANSACTION".equals(s.word()) ? "START TRANSACTION" : null;
            case "ROLLBACK": {
                String next = s.word();
                if ("WORK".equals(next) || "TRANSACTION".equals(next)) {
                    next = s.word();
                }
                return !"TO".equals(next) ? "ROLLBACK" : ownSavepoint(s) ? "ROLLBACK TO SAVEPOINT " + HANDLERS_SAVEPOINT
                        : null;
            }
            case "RELEASE":
                return ownSavepoint(s) ? "RELEASE SAVEPOINT " + HANDLERS_SAVEPOINT : null;
            case "PREPARE":
                return "TRANSACTION".equals(s.word()) ? "PREPARE TRANSACTION" : null;
            case "SET": {
                String next = s.word();
                if ("SESSION".equals(next)) {
                    next = s.word();
                }
                if ("CHARACTERISTICS".equals(next)) {
                    return "SET SESSION CHARACTERISTICS";
                }
                return next != null && next.startsWith("DEFAULT_TRANSACTION_") ? "SET " + next : null;
            }
            default:
                return null;
        }
    }

    /** Whether the savepoint named next (after an optional SAVEPOINT) is the listener's own. */
    private static boolean ownSavepoint(Scanner s) {
        String name = s.name();
        if ("savepoint".equals(name)) {
            name = s.name();
        }
        return HANDLERS_SAVEPOINT.equals(name);
    }

    /** Reads words and skips what is not code. */
    private static final class Scanner {
        private final String sql;
        private int at;

        Scanner(String sql) {
            this.sql = sql;
        }

        /** The next word (letters and underscores), upper-cased, skipping blanks and comments; null at a ';' or the end. */
        String word() {
            skipBlanks();
            if (at >= sql.length() || !isWordStart(sql.charAt(at))) {
                return null;
            }
            int start = at;
            while (at < sql.length() && (Character.isLetterOrDigit(sql.charAt(at)) || sql.charAt(at) == '_')) {
                at++;
            }
            return sql.substring(start, at).toUpperCase(Locale.ROOT);
        }

        /**
         * The next name as Postgres reads it: a word folded to lower case, or a quoted name as
         * written; null when neither comes next.
         */
        String name() {
            skipBlanks();
            if (at < sql.length() && sql.charAt(at) == '"') {
                StringBuilder name = new StringBuilder();
                at++;
                while (at < sql.length()) {
                    char c = sql.charAt(at++);
                    if (c == '"') {
                        if (at < sql.length() && sql.charAt(at) == '"') {
                            name.append('"');
                            at++;
                            continue;
                        }
                        return name.toString();
                    }
                    name.append(c);
                }
                return null;
            }
            String word = word();
            return word == null ? null : word.toLowerCase(Locale.ROOT);
        }

        /** Moves past the next ';' outside literals and comments; false when there is none. */
        boolean skipToNextStatement() {
            while (at < sql.length()) {
                char c = sql.charAt(at);
                if (c == ';') {
                    at++;
                    return true;
                }
                if (!skipNonCode()) {
                    at++;
                }
            }
            return false;
        }

        private void skipBlanks() {
            while (at < sql.length()) {
                char c = sql.charAt(at);
                if (Character.isWhitespace(c) || c == '(') {
                    at++;
                } else if (!skipComment()) {
                    return;
                }
            }
        }

        /** Skips a comment, literal, quoted name or dollar-quoted body at the cursor; false if none starts here. */
        private boolean skipNonCode() {
            if (skipComment()) {
                return true;
            }
            char c = sql.charAt(at);
            if (c == '\'') {
                boolean escapes = at > 0 && (sql.charAt(at - 1) == 'E' || sql.charAt(at - 1) == 'e');
                skipQuoted('\'', escapes);
                return true;
            }
            if (c == '"') {
                skipQuoted('"', false);
                return true;
            }
            if (c == '$') {
                int end = sql.indexOf('$', at + 1);
                if (end > 0 && sql.substring(at + 1, end).chars().allMatch(ch -> Character.isLetterOrDigit(ch) || ch == '_')
                        && (end == at + 1 || !Character.isDigit(sql.charAt(at + 1)))) {
                    String tag = sql.substring(at, end + 1);
                    int close = sql.indexOf(tag, end + 1);
                    at = close < 0 ? sql.length() : close + tag.length();
                    return true;
                }
            }
            return false;
        }

        private boolean skipComment() {
            if (sql.startsWith("--", at)) {
                int end = sql.indexOf('\n', at);
                at = end < 0 ? sql.length() : end + 1;
                return true;
            }
            if (sql.startsWith("/*", at)) {
                int depth = 0;
                while (at < sql.length()) {
                    if (sql.startsWith("/*", at)) {
                        depth++;
                        at += 2;
                    } else if (sql.startsWith("*/", at)) {
                        depth--;
                        at += 2;
                        if (depth == 0) {
                            return true;
                        }
                    } else {
                        at++;
                    }
                }
                return true;
            }
            return false;
        }

        private void skipQuoted(char quote, boolean backslashEscapes) {
            at++;
            while (at < sql.length()) {
                char c = sql.charAt(at);
                if (backslashEscapes && c == '\\') {
                    at += 2;
                } else if (c == quote) {
                    if (at + 1 < sql.length() && sql.charAt(at + 1) == quote) {
                        at += 2;
                    } else {
                        at++;
                        return;
                    }
                } else {
                    at++;
                }
            }
        }

        private static boolean isWordStart(char c) {
            return Character.isLetter(c) || c == '_';
        }
    }
}
