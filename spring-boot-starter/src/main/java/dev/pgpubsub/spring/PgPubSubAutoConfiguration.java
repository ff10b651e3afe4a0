package dev.pgpubsub.spring;

import dev.pgpubsub.core.Publisher;
import javax.sql.DataSource;
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
    Publisher pgPubSubPublisher(PgPubSubProperties properties, ObjectProvider<SchemaMigration> migration) {
        migration.ifAvailable(m -> { });
        return Publisher.builder()
                .schema(properties.getSchema())
                .maxPayloadBytes(properties.getPublisher().getMaxPayloadBytes())
                .build();
    }

    @Bean
    @ConditionalOnMissingBean
    TransactionalPublisher pgPubSubTransactionalPublisher(Publisher publisher, DataSource dataSource,
            ObjectProvider<PlatformTransactionManager> transactionManagers) {
        PlatformTransactionManager transactionManager = transactionManagers.getIfUnique();
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

    /** The listener, unless {@code pgpubsub.listener.enabled=false}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "pgpubsub.listener", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class ListenerConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ListenerLifecycle pgPubSubListener(PgPubSubProperties properties, DataSource dataSource, Environment environment,
                ObjectProvider<SchemaMigration> migration, ObjectProvider<PlatformTransactionManager> transactionManagers) {
            migration.ifAvailable(m -> { });
            PlatformTransactionManager transactionManager = null;
            if (properties.getListener().isSpringTransactions()) {
                transactionManager = transactionManagers.getIfUnique();
                if (transactionManager == null && transactionManagers.stream().findAny().isPresent()) {
                    throw new IllegalStateException("The pgpubsub listener runs its batches in Spring transactions of the "
                            + "application's transaction manager, but there are several PlatformTransactionManager beans "
                            + "and none is @Primary. Mark the one of the application's DataSource @Primary, or set "
                            + "pgpubsub.listener.spring-transactions=false");
                }
            }
            return new ListenerLifecycle(properties, dataSource, environment, transactionManager);
        }
    }
}
