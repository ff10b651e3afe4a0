package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Publishing with a priority: Java and SQL alike, checked, kept by keep and taken by replace. */
@PostgresTest
class PrioritiesTest {

    record Mail(String to) {
    }

    static final Channel<Mail> MAILS = Channel.of("mails", Mail.class);

    private final TestDatabase db;
    private final Publisher publisher = Publisher.create();

    PrioritiesTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification");
    }

    private List<String> rows() throws SQLException {
        return db.strings("SELECT payload->>'to' || ' ' || priority FROM pgpubsub.notification ORDER BY id");
    }

    @Test
    void javaAndSqlPublishersStoreThePriorityAndTheDefaultIsZero() throws SQLException {
        publisher.publish(db.dataSource(), MAILS, new Mail("plain"));
        publisher.publish(db.dataSource(), MAILS, new Mail("reset"), PublishOptions.defaults().priority(50));
        publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(MAILS,
                List.of(new Mail("a"), new Mail("b")), PublishOptions.defaults().priority(100)));
        publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(MAILS,
                Map.of("k", new Mail("keyed")), PublishOptions.defaults().priority(7)));
        db.execute("SELECT pgpubsub.publish('mails', '{\"to\": \"sql\"}', priority => 3)");
        db.execute("SELECT pgpubsub.publish_all('mails', '[{\"to\": \"sql-batch\"}]', priority => 4)");
        db.execute("SELECT pgpubsub.publish('mails', '{\"to\": \"sql-plain\"}')");
        assertThat(rows()).containsExactly("plain 0", "reset 50", "a 100", "b 100", "keyed 7", "sql 3", "sql-batch 4",
                "sql-plain 0");
    }

    @Test
    void aPriorityOutOfRangeIsRefusedNamingTheValueAndNothingIsPublished() throws SQLException {
        assertThatThrownBy(() -> PublishOptions.defaults().priority(101))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("The priority is 101, not between 0 and 100");
        assertThatThrownBy(() -> PublishOptions.defaults().priority(-1))
                .hasMessageContaining("The priority is -1");
        assertThatThrownBy(() -> db.execute("SELECT pgpubsub.publish('mails', '{}', priority => 500)"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("the priority is 500, not between 0 and 100")
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22023"));
        assertThatThrownBy(() -> db.execute("SELECT pgpubsub.publish_all('mails', '[{}]', priority => -3)"))
                .hasMessageContaining("the priority is -3");
        assertThatThrownBy(() -> db.execute("INSERT INTO pgpubsub.notification (channel, payload, priority) "
                + "VALUES ('mails', '{}', 101)")).hasMessageContaining("notification_priority");
        assertThat(rows()).isEmpty();
    }

    @Test
    void aBatchWithOptionsRefusesASharedKey() {
        assertThatThrownBy(() -> publisher.inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(MAILS,
                List.of(new Mail("a")), PublishOptions.defaults().key("one"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("carry the key \"one\"")
                .hasMessageContaining("publishAll(channel, payloadsByKey, options)");
    }

    @Test
    void replaceTakesTheNewPriorityAndKeepKeepsThePendingOne() throws SQLException {
        PublishOptions keyed = PublishOptions.defaults().key("user-7:digest");
        long id = publisher.publish(db.dataSource(), MAILS, new Mail("first"), keyed.priority(10));
        assertThat(publisher.publish(db.dataSource(), MAILS, new Mail("kept"), keyed.priority(90))).isEqualTo(id);
        assertThat(rows()).containsExactly("first 10");
        assertThat(publisher.publish(db.dataSource(), MAILS, new Mail("replaced"), keyed.replace().priority(90)))
                .isEqualTo(id);
        assertThat(rows()).containsExactly("replaced 90");
    }

    /**
     * A publisher of this version on an installation migrated to version 8 only (publishers may be
     * deployed before the migration): plain and keyed publishes work, as they did; a priority needs
     * version 9. (Every keyed publish had taken version 9's form.)
     */
    @Test
    void keyedPublishesKeepWorkingOnAnInstallationOfVersion8(dev.pgpubsub.testing.PostgresServer server) throws Exception {
        try (TestDatabase old = server.createDatabase("priorities_v8")) {
            org.flywaydb.core.Flyway.configure(dev.pgpubsub.core.internal.SchemaMigrator.class.getClassLoader())
                    .dataSource(old.dataSource()).schemas("pgpubsub").defaultSchema("pgpubsub").createSchemas(true)
                    .table(dev.pgpubsub.core.internal.SchemaMigrator.HISTORY_TABLE)
                    .locations(dev.pgpubsub.core.internal.SchemaMigrator.LOCATION)
                    .placeholders(dev.pgpubsub.core.internal.SchemaMigrator.placeholders("pgpubsub"))
                    .target("8").load().migrate();
            publisher.publish(old.dataSource(), MAILS, new Mail("plain"));
            publisher.publish(old.dataSource(), MAILS, new Mail("keyed"), PublishOptions.defaults().key("k"));
            publisher.inNewTransaction(old.dataSource(), (tx, c) -> tx.publishAll(MAILS, Map.of("k2", new Mail("batch")),
                    PublishOptions.defaults()));
            assertThat(old.strings("SELECT payload->>'to' || ' ' || coalesce(key, '-') FROM pgpubsub.notification ORDER BY id"))
                    .containsExactly("plain -", "keyed k", "batch k2");
            assertThatThrownBy(() -> publisher.publish(old.dataSource(), MAILS, new Mail("urgent"),
                    PublishOptions.defaults().priority(5))).isInstanceOf(PgPubSubException.class);
        }
    }
}
