package dev.pgpubsub.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains that the transaction manager does not manage the DataSource the listener claims on. */
class TransactionManagerMismatchFailureAnalyzer extends AbstractFailureAnalyzer<TransactionManagerMismatchException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, TransactionManagerMismatchException e) {
        return new FailureAnalysis("The pgpubsub listener runs each batch of tasks in a Spring transaction of the "
                + "application's transaction manager, so that a handler's writes through JdbcTemplate or a "
                + "@Transactional service commit exactly once, with the tasks' deletion. But the listener claims tasks "
                + "on " + e.claimedOn() + ", and the transaction manager (a " + e.transactionManagerType()
                + ") manages " + e.managed() + ".",
                "Build the transaction manager on the application's DataSource, the one the listener uses (e.g. "
                        + "new DataSourceTransactionManager(dataSource)). Or, to run the listener's transactions "
                        + "without Spring (handler writes then join them only through TaskContext.connection()), set "
                        + "pgpubsub.listener.spring-transactions=false.", e);
    }
}
