package dev.pgpubsub.cli;

/** The process's exit codes. */
final class ExitCodes {

    /** Done (also after a graceful stop on SIGTERM or SIGINT). */
    static final int OK = 0;
    /** An unexpected failure. */
    static final int FAILURE = 1;
    /**
     * Bad configuration: an unknown flag, a missing setting, a bad handler class or channel name, or a
     * user without a privilege the command needs (SQLSTATE 42501).
     */
    static final int BAD_CONFIGURATION = 2;
    /** The database could not be reached (or refused the credentials). */
    static final int DATABASE_UNREACHABLE = 3;
    /** A second signal arrived during a graceful stop: exited at once. */
    static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}
