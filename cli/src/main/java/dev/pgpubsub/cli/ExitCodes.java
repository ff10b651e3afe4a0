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
    /**
     * The database stayed unreachable (down, starting, stopping, out of connections, host unknown) for
     * longer than {@code --outage-limit}.
     */
    static final int DATABASE_UNREACHABLE = 3;
    /** The server refused the login: a wrong user or password (SQLSTATE class 28). */
    static final int AUTHENTICATION_FAILED = 4;
    /** The database the URL names does not exist (SQLSTATE 3D000). */
    static final int UNKNOWN_DATABASE = 5;
    /** pgpubsub is not installed in the schema: run {@code migrate}. */
    static final int NOT_INSTALLED = 6;
    /** {@code cancel}: the task's handler is running (its row is held by its claim); nothing was done. */
    static final int TASK_RUNNING = 7;
    /** {@code cancel}: no pending task has that id or key (unknown, done, or dead-lettered). */
    static final int TASK_NOT_FOUND = 8;
    /** A second signal arrived during a graceful stop: exited at once. */
    static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}
