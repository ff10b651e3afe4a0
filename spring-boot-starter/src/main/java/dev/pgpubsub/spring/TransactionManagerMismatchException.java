package dev.pgpubsub.spring;

/**
 * The application's transaction manager does not manage the DataSource that the listener claims
 * tasks on, so a handler's writes through it could not join the claim transaction.
 */
public class TransactionManagerMismatchException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The class name of the transaction manager. */
    private final String transactionManagerType;

    /** What the transaction manager manages, as text: its DataSource, or why it has none. */
    private final String managed;

    /** The DataSource the listener claims on, as text. */
    private final String claimedOn;

    /**
     * An exception naming both sides.
     *
     * @param transactionManagerType the class name of the transaction manager
     * @param managed                what it manages, as text
     * @param claimedOn              the DataSource the listener claims on, as text
     */
    public TransactionManagerMismatchException(String transactionManagerType, String managed, String claimedOn) {
        super("The pgpubsub listener claims tasks on " + claimedOn + ", but the application's transaction manager (a "
                + transactionManagerType + ") manages " + managed + ": handler writes through it could not join the "
                + "claim transaction. Give the transaction manager the listener's DataSource, or set "
                + "pgpubsub.listener.spring-transactions=false");
        this.transactionManagerType = transactionManagerType;
        this.managed = managed;
        this.claimedOn = claimedOn;
    }

    /**
     * The class name of the application's transaction manager.
     *
     * @return the class name
     */
    public String transactionManagerType() {
        return transactionManagerType;
    }

    /**
     * What the transaction manager manages: its DataSource, or why it has none.
     *
     * @return a description
     */
    public String managed() {
        return managed;
    }

    /**
     * The DataSource the listener claims on.
     *
     * @return a description
     */
    public String claimedOn() {
        return claimedOn;
    }
}
