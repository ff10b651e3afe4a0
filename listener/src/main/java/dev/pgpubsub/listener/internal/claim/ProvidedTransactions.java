package dev.pgpubsub.listener.internal.claim;

import dev.pgpubsub.listener.ClaimTransactions;

/** A {@link RunTransaction} on an integration's {@link ClaimTransactions}. */
public final class ProvidedTransactions implements RunTransaction {

    private final ClaimTransactions provided;

    /**
     * Transactions from {@code provided}.
     *
     * @param provided the integration's transactions
     */
    public ProvidedTransactions(ClaimTransactions provided) {
        this.provided = provided;
    }

    @Override
    public <T> T inTransaction(Work<T> work) throws Exception {
        return provided.inTransaction(work::run);
    }

    @Override
    public String afterHandler() throws Exception {
        return provided.afterHandler();
    }
}
