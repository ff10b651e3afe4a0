package dev.pgpubsub.core;

/** An operation of pgpubsub failed; the message says what happened and what to do about it. */
public class PgPubSubException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An error with a message and the underlying cause.
     *
     * @param message what happened and what to do about it
     * @param cause   the failure that caused it, usually an {@link java.sql.SQLException}
     */
    public PgPubSubException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * An error with a message.
     *
     * @param message what happened and what to do about it
     */
    public PgPubSubException(String message) {
        super(message);
    }
}
