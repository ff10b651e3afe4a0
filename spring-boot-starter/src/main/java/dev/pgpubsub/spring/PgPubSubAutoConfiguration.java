package dev.pgpubsub.spring;

import dev.pgpubsub.core.PublishObserver;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.ListenerObserver;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * pgpubsub in a Spring Boot application with one DataSource: the schema migrated at start-up
 * ({@code pgpubsub.migrate}), a {@link Publisher} bean, a {@link TransactionalPublisher} bean that
 * publishes in the caller's Spring transaction, and a {@link ListenerLifecycle} that runs the
 * beans with {@code @Listen} methods ({@code pgpubsub.listener.enabled}), in Spring transactions of the
 * application's transaction manager when there is one ({@code pgpubsub.listener.spring-transactions}).
 * See {@link PgPubSubProperties}.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration"})
@ConditionalOnClass({DataSource.class, Publisher.class})
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(PgPubSubProperties.class)
public class PgPubSubAutoConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(PgPubSubAutoConfiguration.class);

    /** Created by Spring. */
    public PgPubSubAutoConfiguration() {
    }

    @Bean
    @ConditionalOnProperty(prefix = "pgpubsub", name = "migrate", havingValue = "true", matchIfMissing = true)
    SchemaMigration pgPubSubSchemaMigration(DataSource dataSource, PgPubSubProperties properties) {
        return new SchemaMigration(dataSource, properties.getSchema());
    }

    @Bean
    @ConditionalOnMissingBean
    Publisher pgPubSubPublisher(PgPubSubProperties properties, ObjectProvider<SchemaMigration> migration,
            ObjectProvider<PublishObserver> observers, ObjectProvider<PgPubSubCustomizer> customizers) {
        migration.ifAvailable(m -> { });
        if (!properties.getListener().isEnabled()) {
            LOG.info("pgpubsub listener is off (pgpubsub.listener.enabled=false): this node publishes tasks and runs none");
        }
        Publisher.Builder builder = Publisher.builder()
                .schema(properties.getSchema())
                .maxPayloadBytes(properties.getPublisher().getMaxPayloadBytes());
        observers.ifUnique(builder::observer); // the metrics, when there is a MeterRegistry
        customizers.orderedStream().forEach(c -> c.customize(builder)); // tracing, when there is an ObservationRegistry
        return builder.build();
    }

    @Bean
    @ConditionalOnMissingBean
    TransactionalPublisher pgPubSubTransactionalPublisher(Publisher publisher, DataSource dataSource,
            ObjectProvider<PlatformTransactionManager> transactionManagers) {
        PlatformTransactionManager transactionManager;
        try {
            transactionManager = transactionManagerOf(transactionManagers, dataSource);
        } catch (IllegalStateException several) {
            transactionManager = null; // they all key by the DataSource itself
        }
        DataSource keyed = dataSource;
        if (transactionManager != null) {
            try {
                keyed = SpringClaimTransactions.managedDataSource(transactionManager, dataSource);
            } catch (TransactionManagerMismatchException e) {
                // Its transactions are not on this DataSource: publishing refuses to join them.
            }
        }
        return new TransactionalPublisher(publisher, keyed);
    }

    /**
     * The application's transaction manager: the only one, or the {@code @Primary} one, or else the
     * only one that manages {@code dataSource}; null when there is none.
     *
     * @throws IllegalStateException when several manage it and none is {@code @Primary}
     */
    static PlatformTransactionManager transactionManagerOf(ObjectProvider<PlatformTransactionManager> transactionManagers,
            DataSource dataSource) {
        PlatformTransactionManager unique = transactionManagers.getIfUnique();
        if (unique != null) {
            return unique;
        }
        List<PlatformTransactionManager> all = transactionManagers.orderedStream().toList();
        List<PlatformTransactionManager> onIt = all.stream().filter(tm -> {
            try {
                SpringClaimTransactions.managedDataSource(tm, dataSource);
                return true;
            } catch (TransactionManagerMismatchException other) {
                return false;
            }
        }).toList();
        if (onIt.size() == 1) {
            return onIt.get(0);
        }
        if (onIt.isEmpty()) {
            // None manages it (or there is none): the listener's check names the first one.
            return all.isEmpty() ? null : all.get(0);
        }
        throw new IllegalStateException("pgpubsub runs its transactions as Spring transactions of the transaction manager "
                + "of the application's DataSource, but " + onIt.size() + " PlatformTransactionManager beans manage it ("
                + onIt.stream().map(tm -> tm.getClass().getName()).collect(java.util.stream.Collectors.joining(", "))
                + ") and none is @Primary. Mark the one to use @Primary, or set pgpubsub.listener.spring-transactions=false");
    }

    /** The listener, unless {@code pgpubsub.listener.enabled=false}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "pgpubsub.listener", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class ListenerConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ListenerLifecycle pgPubSubListener(PgPubSubProperties properties, DataSource dataSource, Environment environment,
                ObjectProvider<SchemaMigration> migration, ObjectProvider<PlatformTransactionManager> transactionManagers,
                ObjectProvider<ListenerObserver> observers, ObjectProvider<PgPubSubCustomizer> customizers) {
            migration.ifAvailable(m -> { });
            PlatformTransactionManager transactionManager = properties.getListener().isSpringTransactions()
                    ? transactionManagerOf(transactionManagers, dataSource) : null;
            ListenerLifecycle lifecycle = new ListenerLifecycle(properties, dataSource, environment, transactionManager);
            observers.ifUnique(lifecycle::observer); // the metrics, when there is a MeterRegistry
            lifecycle.customizers(customizers.orderedStream().toList());
            return lifecycle;
        }
    }
}
