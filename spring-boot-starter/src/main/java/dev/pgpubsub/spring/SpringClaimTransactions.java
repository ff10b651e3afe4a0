package dev.pgpubsub.spring;

import dev.pgpubsub.listener.ClaimTransactions;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.util.ArrayDeque;
import java.util.Deque;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.ResourceTransactionManager;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The listener's transactions as Spring transactions on the application's transaction manager: a
 * new one for each claim (never joining one the calling thread has open), at the connection's own
 * isolation (the listener checks at start that it is READ COMMITTED), whose
 * connection is the one the transaction holds for the DataSource, so that {@code JdbcTemplate} and
 * {@code @Transactional(REQUIRED)} methods that a handler calls join it. After each handler, the
 * transaction is flushed and must still be the claim's and not marked rollback-only.
 */
final class SpringClaimTransactions implements ClaimTransactions {

    /** One open claim transaction, as a handler must leave it. */
    private record Open(TransactionStatus status, Object resource, Connection connection) {
    }

    /** Carries a checked exception of the work through {@link TransactionTemplate}. */
    private static final class Checked extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Checked(Exception cause) {
            super(null, cause, false, false);
        }
    }

    private final DataSource dataSource;
    private final TransactionTemplate template;
    private final ThreadLocal<Deque<Open>> open = ThreadLocal.withInitial(ArrayDeque::new);

    /**
     * Transactions of {@code transactionManager} on {@code dataSource}.
     *
     * @param transactionManager the application's transaction manager
     * @param dataSource         the DataSource it manages, as it keys its connections (unwrapped from
     *                           a transaction-aware proxy)
     */
    SpringClaimTransactions(PlatformTransactionManager transactionManager, DataSource dataSource) {
        this.dataSource = dataSource;
        this.template = new TransactionTemplate(transactionManager);
        template.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        // The connection's own isolation: the listener checks at start that it is READ COMMITTED. Asking
        // for it here would cost a round trip per claim (the manager reads the level, sets it and
        // resets it), and a session setting that a pooler in transaction mode could pass on.
        template.setIsolationLevel(TransactionDefinition.ISOLATION_DEFAULT);
        template.setName("pgpubsub claim");
    }

    /**
     * Transactions of {@code transactionManager}, once it is known to manage {@code claimedOn}.
     *
     * @param transactionManager the application's transaction manager
     * @param claimedOn          the DataSource the listener claims on
     * @return the transactions
     * @throws TransactionManagerMismatchException when the transaction manager manages another
     *                                             DataSource, or none
     */
    static SpringClaimTransactions on(PlatformTransactionManager transactionManager, DataSource claimedOn) {
        return new SpringClaimTransactions(transactionManager, managedDataSource(transactionManager, claimedOn));
    }

    /**
     * The DataSource as {@code transactionManager} keys its transactions' connections, once it is
     * known to be {@code claimedOn} (or a proxy of it, or under one).
     *
     * @throws TransactionManagerMismatchException when the transaction manager manages another
     *                                             DataSource, or none
     */
    static DataSource managedDataSource(PlatformTransactionManager transactionManager, DataSource claimedOn) {
        Object managed = managedResource(transactionManager);
        if (!(managed instanceof DataSource managedDataSource) || target(managedDataSource) != target(claimedOn)) {
            throw new TransactionManagerMismatchException(transactionManager.getClass().getName(),
                    managed instanceof DataSource ? "another DataSource (" + describe(managed) + ")"
                            : managed == null ? "no DataSource" : "no DataSource but a " + managed.getClass().getName(),
                    "the application's DataSource (" + describe(claimedOn) + ")");
        }
        return managedDataSource;
    }

    /**
     * What the transaction manager keys its transactions' connections by: the DataSource of a
     * DataSourceTransactionManager, the resource factory of another resource transaction manager,
     * or the DataSource that a JPA or Hibernate transaction manager exposes its connections for.
     */
    private static Object managedResource(PlatformTransactionManager tm) {
        if (tm instanceof DataSourceTransactionManager d) {
            return d.getDataSource();
        }
        if (tm instanceof ResourceTransactionManager r && r.getResourceFactory() instanceof DataSource ds) {
            return ds;
        }
        try {
            Method getter = tm.getClass().getMethod("getDataSource");
            if (DataSource.class.isAssignableFrom(getter.getReturnType())) {
                return getter.invoke(tm);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // none
        }
        return tm instanceof ResourceTransactionManager r ? r.getResourceFactory() : null;
    }

    /** The DataSource under transaction-aware and other delegating proxies. */
    static DataSource target(DataSource ds) {
        DataSource current = ds;
        while (current instanceof DelegatingDataSource d && d.getTargetDataSource() != null
                && d.getTargetDataSource() != current) {
            current = d.getTargetDataSource();
        }
        return current;
    }

    private static String describe(Object o) {
        return o.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(o));
    }

    @Override
    public <T> T inTransaction(Work<T> work) throws Exception {
        try {
            return template.execute(status -> {
                Connection c = DataSourceUtils.getConnection(dataSource);
                Deque<Open> claims = open.get();
                claims.push(new Open(status, TransactionSynchronizationManager.getResource(dataSource), c));
                try {
                    T result = work.run(c);
                    if (status.isRollbackOnly()) {
                        throw new IllegalStateException("The pgpubsub transaction was marked rollback-only; it rolls back");
                    }
                    return result;
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Exception e) {
                    throw new Checked(e);
                } finally {
                    claims.pop();
                    if (claims.isEmpty()) {
                        open.remove();
                    }
                    DataSourceUtils.releaseConnection(c, dataSource);
                }
            });
        } catch (Checked e) {
            throw (Exception) e.getCause();
        }
    }

    @Override
    public String afterHandler() {
        Open claim = open.get().peek();
        if (claim == null) {
            open.remove();
            return "no pgpubsub claim transaction is open on this thread";
        }
        claim.status().flush();
        if (!TransactionSynchronizationManager.isActualTransactionActive()
                || TransactionSynchronizationManager.getResource(dataSource) != claim.resource()
                || !(claim.resource() instanceof ConnectionHolder holder)
                || holder.getConnection() != claim.connection()) {
            return "the handler left the claim transaction: after it returned, the thread's Spring transaction on the "
                    + "DataSource was another one (a transaction it began was not ended)";
        }
        if (claim.status().isRollbackOnly()) {
            return "the claim transaction was marked rollback-only while the handler ran (a @Transactional method "
                    + "that joined it threw, even if the handler caught the exception, or setRollbackOnly() was called)";
        }
        return null;
    }
}
