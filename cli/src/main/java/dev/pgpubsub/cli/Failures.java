package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.Secrets;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.SQLException;

/** Turns a failure into an exit code and a one-line message (no stack trace, no password). */
final class Failures {

    private Failures() {
    }

    static int exitCode(Throwable e) {
        if (e instanceof ConfigError || e instanceof IllegalArgumentException) {
            return ExitCodes.BAD_CONFIGURATION;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException) {
                return ExitCodes.DATABASE_UNREACHABLE;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                // 08: connection exceptions; 3D000: no such database; 28: authentication failed.
                if (state.startsWith("08") || state.equals("3D000") || state.startsWith("28")) {
                    return ExitCodes.DATABASE_UNREACHABLE;
                }
                // 42501: the user lacks a privilege; a restart cannot help, a grant or another user can.
                if (state.equals("42501")) {
                    return ExitCodes.BAD_CONFIGURATION;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return ExitCodes.FAILURE;
    }

    static String message(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            message = e.getClass().getName();
        }
        // A driver may quote the URL it was given: never show its password.
        return Secrets.redact(message.replaceAll("\\s*\\R\\s*", " "));
    }
}
