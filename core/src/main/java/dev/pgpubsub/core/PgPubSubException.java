package dev.pgpubsub.core;

/** An operation of pgpubsub failed; the message says what happened and what to do about it. */
public class PgPubSubException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a message and the underlying cause. */
    public PgPubSubException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An error with a message. */
    public PgPubSubException(String message) {
        super(message);
    }
}
