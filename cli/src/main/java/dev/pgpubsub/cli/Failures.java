package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.Names;
import dev.pgpubsub.core.internal.NotInstalledException;
import dev.pgpubsub.core.internal.Secrets;
import dev.pgpubsub.core.internal.SqlStates;
import java.net.UnknownHostException;

/** Turns a failure into an exit code and a one-line message (no stack trace, no password). */
final class Failures {

    private Failures() {
    }

    static int exitCode(Throwable e) {
        if (e instanceof ConfigError || e instanceof IllegalArgumentException) {
            return ExitCodes.BAD_CONFIGURATION;
        }
        if (notInstalled(e) != null) {
            return ExitCodes.NOT_INSTALLED;
        }
        if (SqlStates.isAuthenticationFailure(e)) {
            return ExitCodes.AUTHENTICATION_FAILED;
        }
        if (SqlStates.isUnknownDatabase(e)) {
            return ExitCodes.UNKNOWN_DATABASE;
        }
        // 42501: the user lacks a privilege; a restart cannot help, a grant or another user can.
        if ("42501".equals(SqlStates.state(e))) {
            return ExitCodes.BAD_CONFIGURATION;
        }
        if (SqlStates.isTransient(e)) {
            return ExitCodes.DATABASE_UNREACHABLE;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UnknownHostException) {
                return ExitCodes.DATABASE_UNREACHABLE;
            }
        }
        return ExitCodes.FAILURE;
    }

    private static NotInstalledException notInstalled(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NotInstalledException n) {
                return n;
            }
        }
        return null;
    }

    static String message(Throwable e) {
        NotInstalledException notInstalled = notInstalled(e);
        if (notInstalled != null) {
            return Names.notInstalled(notInstalled.schema(), Names.Audience.CLI);
        }
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            message = e.getClass().getName();
        }
        // A driver may quote the URL it was given: never show its password.
        return Secrets.redact(message.replaceAll("\\s*\\R\\s*", " "));
    }
}
