package dev.pgpubsub.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.RetryPolicy;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * What the auto-configuration creates, and what it leaves alone. No test here starts a listener, so
 * that "no LISTEN connection" can be checked on this class's database.
 */
@PostgresTest
class AutoConfigurationTest {

    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    private final TestDatabase db;

    AutoConfigurationTest(TestDatabase db) {
        this.db = db;
    }

    private long listenSessions() throws Exception {
        return db.number("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                + "AND application_name LIKE 'pgpubsub-%'");
    }

    @Test
    @ExtendWith(OutputCaptureExtension.class)
    void aPublishOnlyNodeHasAPublisherAndNoListener(CapturedOutput output) throws Exception {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withBean("orders", Orders.class)
                .withPropertyValues("pgpubsub.listener.enabled=false", "pgpubsub.schema=publish_only")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(Publisher.class)
                            .doesNotHaveBean(ListenerLifecycle.class).doesNotHaveBean(Listener.class);
                    Publisher publisher = context.getBean(Publisher.class);
                    assertThat(publisher.schema()).isEqualTo("publish_only");
                    long id = publisher.publish(context.getBean(DataSource.class), TestApps.ORDERS, new Order(1));
                    assertThat(db.number("SELECT count(*) FROM publish_only.notification WHERE id = " + id)).isEqualTo(1);
                    // Neither a LISTEN connection nor worker connections of a listener.
                    assertThat(listenSessions()).isZero();
                    // And the log says so, for an operator who set the property.
                    assertThat(output.getOut()).contains("pgpubsub listener is off (pgpubsub.listener.enabled=false)");
                });
    }

    @Test
    void theMigrationUsesAHistoryTableOfItsOwnAndCanBeTurnedOff() throws Exception {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withPropertyValues("pgpubsub.migrate=false", "pgpubsub.listener.enabled=false", "pgpubsub.schema=not_migrated")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(Publisher.class).doesNotHaveBean(SchemaMigration.class);
                    assertThat(db.number("SELECT count(*) FROM pg_namespace WHERE nspname = 'not_migrated'")).isZero();
                });
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .withPropertyValues("pgpubsub.listener.enabled=false", "pgpubsub.schema=migrated")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(SchemaMigration.class).applied()).isPositive();
                    assertThat(db.number("SELECT count(*) FROM migrated.flyway_schema_history")).isPositive();
                    // The application's own Flyway history (default: flyway_schema_history in public) is not
                    // touched: every history table there is lives in a pgpubsub installation's schema.
                    assertThat(db.number("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            + "WHERE c.relname = 'flyway_schema_history' AND n.nspname = 'public'")).isZero();
                    assertThat(db.number("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            + "WHERE c.relname = 'flyway_schema_history' AND to_regclass(quote_ident(n.nspname) "
                            + "|| '.notification') IS NULL")).isZero();
                });
    }

    @Test
    void withoutADataSourceNothingIsConfigured() {
        TestApps.runner().run(context -> assertThat(context).hasNotFailed()
                .doesNotHaveBean(Publisher.class).doesNotHaveBean(ListenerLifecycle.class));
    }

    @Test
    void aNodeWithoutHandlerBeansStartsNoListener() throws Exception {
        TestApps.runner()
                .withBean(DataSource.class, () -> TestApps.hikari(db))
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(ListenerLifecycle.class);
                    assertThat(context.getBean(ListenerLifecycle.class).listener()).isEmpty();
                    assertThat(listenSessions()).isZero();
                });
    }

    @Test
    void thePropertiesDefaultToTheLibrarysDefaults() {
        PgPubSubProperties p = new PgPubSubProperties();
        PgPubSubProperties.ListenerSettings l = p.getListener();
        assertThat(p.isMigrate()).isTrue();
        assertThat(p.getSchema()).isEqualTo(dev.pgpubsub.core.PgPubSub.DEFAULT_SCHEMA);
        assertThat(p.getPublisher().getMaxPayloadBytes()).isEqualTo(Publisher.DEFAULT_MAX_PAYLOAD_BYTES);
        assertThat(l.isEnabled()).isTrue();
        assertThat(l.getWorkers()).isEqualTo(Listener.DEFAULT_WORKERS);
        assertThat(l.getBatchSize()).isEqualTo(Listener.DEFAULT_BATCH_SIZE);
        assertThat(l.getPollInterval()).isEqualTo(Listener.DEFAULT_POLL_INTERVAL);
        assertThat(l.getListenPingInterval()).isEqualTo(Listener.DEFAULT_LISTEN_PING_INTERVAL);
        assertThat(l.getHeartbeatInterval()).isEqualTo(Listener.DEFAULT_HEARTBEAT_INTERVAL);
        assertThat(l.getHandlerTimeout()).isEqualTo(Listener.DEFAULT_HANDLER_TIMEOUT);
        assertThat(l.getStatementTimeout()).isEqualTo(Listener.DEFAULT_STATEMENT_TIMEOUT);
        assertThat(l.getOutageLimit()).isEqualTo(Listener.DEFAULT_OUTAGE_LIMIT);
        assertThat(l.getMaxPayloadBytes()).isEqualTo(Listener.DEFAULT_MAX_PAYLOAD_BYTES);
        assertThat(l.getMaxBatchBytes()).isEqualTo(Listener.DEFAULT_MAX_BATCH_BYTES);
        assertThat(l.getRecoveryFetchSize()).isEqualTo(Listener.DEFAULT_RECOVERY_FETCH_SIZE);
        assertThat(l.isRecoverOnStart()).isTrue();
        assertThat(l.isPollOnly()).isFalse();
        PgPubSubProperties.Retry r = l.getRetry();
        assertThat(new RetryPolicy(r.getMaxAttempts(), r.getInitialDelay(), r.getMaxDelay(), r.getJitter()))
                .isEqualTo(RetryPolicy.DEFAULT);
    }

    @Test
    void theShutdownGraceEndsWithinSpringsShutdownPhase() {
        assertThat(ListenerLifecycle.defaultShutdownGrace(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(25));
        assertThat(ListenerLifecycle.defaultShutdownGrace(Duration.ofSeconds(120))).isEqualTo(Duration.ofSeconds(115));
        assertThat(ListenerLifecycle.defaultShutdownGrace(Duration.ofSeconds(8))).isEqualTo(Duration.ofSeconds(4));
        assertThat(ListenerLifecycle.defaultShutdownGrace(Duration.ZERO)).isEqualTo(Duration.ZERO);
    }

    @Test
    void everyListenerSettingHasDocumentedMetadata() throws Exception {
        String json;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("metadata generated by the configuration processor").isNotNull();
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String name : new String[] {"pgpubsub.migrate", "pgpubsub.schema", "pgpubsub.publisher.max-payload-bytes",
                "pgpubsub.listener.enabled", "pgpubsub.listener.jdbc-url", "pgpubsub.listener.username",
                "pgpubsub.listener.password", "pgpubsub.listener.workers", "pgpubsub.listener.batch-size",
                "pgpubsub.listener.poll-interval", "pgpubsub.listener.poll-only", "pgpubsub.listener.listen-ping-interval",
                "pgpubsub.listener.heartbeat-interval", "pgpubsub.listener.handler-timeout", "pgpubsub.listener.statement-timeout",
                "pgpubsub.listener.outage-limit", "pgpubsub.listener.shutdown-grace",
                "pgpubsub.listener.max-payload-bytes", "pgpubsub.listener.max-batch-bytes",
                "pgpubsub.listener.max-abandoned-threads", "pgpubsub.listener.recover-on-start",
                "pgpubsub.listener.recovery-fetch-size", "pgpubsub.listener.channels",
                "pgpubsub.listener.retry.max-attempts", "pgpubsub.listener.retry.initial-delay",
                "pgpubsub.listener.retry.max-delay", "pgpubsub.listener.retry.jitter", "pgpubsub.listener.channel",
                "management.health.pgpubsub.enabled", "pgpubsub.metrics.enabled", "pgpubsub.metrics.max-channel-tags",
                "pgpubsub.metrics.percentile-histograms", "pgpubsub.metrics.queue-depth-interval",
                "pgpubsub.metrics.queue-depth-cap"}) {
            assertThat(json).as(name).contains("\"name\": \"" + name + "\"");
        }
        assertThat(json).contains("The JDBC URL of the LISTEN connection");
    }
}
