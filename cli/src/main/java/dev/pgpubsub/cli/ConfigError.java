package dev.pgpubsub.cli;

/** Bad configuration: the message says what to fix; the process exits with {@link ExitCodes#BAD_CONFIGURATION}. */
final class ConfigError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    ConfigError(String message) {
        super(message);
    }

    ConfigError(String message, Throwable cause) {
        super(message, cause);
    }
}
