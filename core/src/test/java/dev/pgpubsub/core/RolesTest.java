package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.core.internal.SchemaMigrator;
import dev.pgpubsub.testing.DocumentedRoles;
import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The roles of docs/operations.md, granted exactly as the page says (its SQL is run as written):
 * the owner migrates and grants, a publisher publishes every way there is and can do nothing else,
 * an operator watches and handles dead letters. The listener's role is tested in the listener module.
 */
@PostgresTest
class RolesTest {

    record Order(long n) {
    }

    private static final Channel<Order> ORDERS = Channel.of("orders", Order.class);

    private static DocumentedRoles roles;
    private static int migrations;
    private static String publisher;
    private static String operator;

    private final TestDatabase db;

    RolesTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void setUp(TestDatabase db) throws Exception {
        roles = new DocumentedRoles(db);
        migrations = PgPubSub.migrate(roles.dataSource(roles.role("owner")));
        roles.grant();
        publisher = roles.login("publisher");
        operator = roles.login("operator");
    }

    @AfterAll
    static void tearDown() throws SQLException {
        roles.close();
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("DELETE FROM pgpubsub.notification; DELETE FROM pgpubsub.dead_letter");
    }

    @Test
    void theDocumentedSqlIsWhatTheseTestsRun() throws Exception {
        List<String> blocks = DocumentedRoles.blocks();
        assertThat(blocks).hasSize(2);
        assertThat(blocks.get(0)).contains("CREATE ROLE pgpubsub_owner LOGIN;", "CREATE ROLE pgpubsub_publisher;",
                "CREATE ROLE pgpubsub_listener;", "CREATE ROLE pgpubsub_operator;");
        assertThat(blocks.get(1)).contains("TO pgpubsub_publisher;", "TO pgpubsub_listener;", "TO pgpubsub_operator;")
                .doesNotContain("ON pgpubsub.notification TO pgpubsub_publisher");
    }

    @Test
    void theOwnerNeedsOnlyCreateOnTheDatabaseToMigrateAndOwnsWhatItCreated() throws SQLException {
        assertThat(migrations).isEqualTo(10);
        String owner = roles.role("owner");
        assertThat(db.strings("SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = '" + owner + "'"))
                .containsExactly("f");
        assertThat(db.strings("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE nspname = 'pgpubsub' UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'pgpubsub' "
                + "UNION SELECT pg_get_userbyid(proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                + "WHERE nspname = 'pgpubsub'")).containsExactly(owner);
    }

    @Test
    void aPublisherPublishesWithEveryFormOfTheSqlFunctions() throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (Connection c = roles.connect(publisher); Statement s = c.createStatement()) {
            for (String call : List.of("pgpubsub.publish('orders', '{\"n\": 1}')",
                    "pgpubsub.publish('orders', '{\"n\": 2}', now() + interval '1 hour')",
                    "pgpubsub.publish('orders', '{\"n\": 3}', NULL)",
                    "pgpubsub.publish(channel => 'orders', payload => '{\"n\": 4}')",
                    "pgpubsub.publish(run_at => now(), payload => '{\"n\": 5}', channel => 'orders')")) {
                try (ResultSet rs = s.executeQuery("SELECT " + call)) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
            for (String call : List.of("pgpubsub.publish_all('orders', '[{\"n\": 6}, {\"n\": 7}]')",
                    "pgpubsub.publish_all('orders', '[{\"n\": 8}]', now() + interval '1 hour')",
                    "pgpubsub.publish_all(channel => 'orders', payloads => '[{\"n\": 9}]',"
                            + " trace_context => '{\"traceparent\": \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}')")) {
                try (ResultSet rs = s.executeQuery("SELECT unnest(" + call + ")")) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
            }
        }
        assertThat(db.strings("SELECT id || ':' || (payload->>'n') || ':' || (run_at > now() + interval '30 minutes') "
                + "FROM pgpubsub.notification ORDER BY id")).containsExactly(
                ids.get(0) + ":1:false", ids.get(1) + ":2:true", ids.get(2) + ":3:false", ids.get(3) + ":4:false",
                ids.get(4) + ":5:false", ids.get(5) + ":6:false", ids.get(6) + ":7:false", ids.get(7) + ":8:true",
                ids.get(8) + ":9:false");
    }

    @Test
    void aPublisherPublishesWithTheJavaPublisher() throws SQLException {
        Publisher java = Publisher.create();
        DataSource ds = roles.dataSource(publisher);
        Instant later = Instant.now().plus(1, ChronoUnit.HOURS);
        List<Long> ids = new ArrayList<>();
        ids.add(java.publish(ds, ORDERS, new Order(1)));
        java.inNewTransaction(ds, (tx, c) -> {
            ids.add(tx.publish(ORDERS, new Order(2), later));
            for (long id : tx.publishAll(ORDERS, List.of(new Order(3), new Order(4)))) {
                ids.add(id);
            }
            for (long id : tx.publishAll(ORDERS, List.of(new Order(5)), later)) {
                ids.add(id);
            }
            return null;
        });
        assertThat(db.strings("SELECT id || ':' || (payload->>'n') || ':' || (run_at > now() + interval '30 minutes') "
                + "FROM pgpubsub.notification ORDER BY id")).containsExactly(
                ids.get(0) + ":1:false", ids.get(1) + ":2:true", ids.get(2) + ":3:false", ids.get(3) + ":4:false",
                ids.get(4) + ":5:true");
    }

    @Test
    void aPublisherCanNeitherReadNorChangeTasksNorReadDeadLetters() throws SQLException {
        db.execute("SELECT pgpubsub.publish('orders', '{\"n\": 1}')");
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason) "
                + "VALUES (99, 'orders', '{}', now(), 1, 'failed 1 of 1 attempts')");
        try (Connection c = roles.connect(publisher); Statement s = c.createStatement()) {
            for (String sql : List.of("SELECT * FROM pgpubsub.notification", "SELECT count(*) FROM pgpubsub.notification",
                    "DELETE FROM pgpubsub.notification", "UPDATE pgpubsub.notification SET attempts = 1",
                    "INSERT INTO pgpubsub.notification (channel, payload) VALUES ('orders', '{}')",
                    "SELECT * FROM pgpubsub.dead_letter", "DELETE FROM pgpubsub.dead_letter",
                    "SELECT * FROM pgpubsub.claim_release")) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql).hasMessageContaining("permission denied");
            }
        }
        assertThatThrownBy(() -> DeadLetters.of(roles.dataSource(publisher)).list(null, 10))
                .hasMessageContaining("permission denied");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(1);
        assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isEqualTo(1);
    }

    /**
     * publish() runs as its owner: a search_path of the caller's must not be able to slip a function of
     * the caller's into it (which would then run with the owner's rights).
     */
    @Test
    void aPublishersSearchPathCannotRedirectThePublishFunction() throws SQLException {
        db.execute("CREATE SCHEMA publisher_own AUTHORIZATION " + publisher);
        try (Connection c = roles.connect(publisher); Statement s = c.createStatement()) {
            s.execute("CREATE FUNCTION publisher_own.now() RETURNS timestamptz LANGUAGE sql "
                    + "AS $$ SELECT '2000-01-01 00:00:00+00'::timestamptz $$");
            s.execute("GRANT USAGE ON SCHEMA publisher_own TO PUBLIC");
            s.execute("SET search_path = publisher_own, pg_catalog");
            try (ResultSet rs = s.executeQuery("SELECT now() < '2001-01-01'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("the caller's own now() comes first").isTrue();
            }
            s.execute("SELECT pgpubsub.publish('orders', '{}')");
            s.execute("SELECT pgpubsub.publish_all('orders', '[{}]')");
        } finally {
            db.execute("DROP SCHEMA publisher_own CASCADE");
        }
        assertThat(db.strings("SELECT bool_and(run_at > '2020-01-01') || ':' || count(*) FROM pgpubsub.notification"))
                .containsExactly("true:2");
    }

    @Test
    void aRoleWithoutExecuteCannotPublishAndIsToldWhatItNeeds() throws SQLException {
        String bare = roles.bare();
        try (Connection c = roles.connect(bare); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("SELECT pgpubsub.publish('orders', '{}')"))
                    .hasMessageContaining("permission denied for function publish");
            assertThatThrownBy(() -> s.execute("SELECT pgpubsub.publish_all('orders', '[{}]')"))
                    .hasMessageContaining("permission denied for function publish_all");
        }
        assertThatThrownBy(() -> Publisher.create().publish(roles.dataSource(bare), ORDERS, new Order(1)))
                .isInstanceOf(PgPubSubException.class)
                .hasMessageContaining("42501")
                .hasMessageContaining("EXECUTE on pgpubsub.publish and pgpubsub.publish_all");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    @Test
    void anOperatorWatchesTheQueueAndHandlesDeadLetters() throws SQLException {
        db.execute("SELECT pgpubsub.publish('orders', '{\"n\": 1}')");
        db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason) "
                + "VALUES (101, 'orders', '{\"n\": 2}', now(), 3, 'failed 3 of 3 attempts'), "
                + "(102, 'orders', '{\"n\": 3}', now(), 3, 'failed 3 of 3 attempts')");
        // What bin/pgpubsub status reads.
        try (Connection c = roles.connect(operator); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pgpubsub.notification WHERE channel = 'orders' "
                        + "AND run_at <= now()), (SELECT count(*) FROM pgpubsub.dead_letter WHERE channel = 'orders')")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
            assertThat(rs.getLong(2)).isEqualTo(2);
        }
        DeadLetters dead = DeadLetters.of(roles.dataSource(operator));
        assertThat(dead.list("orders", 10)).extracting(DeadLetter::id).containsExactly(101L, 102L);
        assertThat(dead.countByChannel()).containsEntry("orders", 2L);
        assertThat(dead.requeue(101)).isEqualTo(1);
        assertThat(dead.purge(102)).isEqualTo(1);
        assertThat(db.strings("SELECT id::text FROM pgpubsub.notification WHERE id = 101")).containsExactly("101");
        assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        long keyed = db.number("SELECT pgpubsub.publish('orders', '{}', key => 'k')");
        Tasks tasks = Tasks.of(roles.dataSource(operator));
        assertThat(tasks.cancel(101)).isEqualTo(Tasks.Cancellation.CANCELLED);
        assertThat(tasks.cancel("orders", "k")).isEqualTo(Tasks.Cancellation.CANCELLED);
        assertThat(tasks.cancel(keyed)).isEqualTo(Tasks.Cancellation.NOT_FOUND);
    }

    @Test
    void aListenerWritesItsHeartbeatAndAnOperatorOnlyReadsThem() throws SQLException {
        String listener = roles.login("listener");
        try {
            try (Connection c = roles.connect(listener); Statement s = c.createStatement()) {
                s.execute("INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening, started_at,"
                        + " expires_at) VALUES ('pgpubsub-1', 'app-1', 42, '{orders}', 'starting', false, now(), now() + interval '30 s')"
                        + " ON CONFLICT (host, pid, listener) DO UPDATE SET state = excluded.state");
                s.execute("INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening, started_at,"
                        + " expires_at) VALUES ('pgpubsub-1', 'app-1', 42, '{orders}', 'running', true, now(), now() + interval '30 s')"
                        + " ON CONFLICT (host, pid, listener) DO UPDATE SET state = excluded.state, tasks_done = 7");
                s.execute("INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening, started_at,"
                        + " expires_at) VALUES ('pgpubsub-2', 'app-2', 43, '{orders}', 'running', true, now(), now() - interval '1 s')");
                assertThat(s.executeUpdate("DELETE FROM pgpubsub.listener_heartbeat WHERE expires_at < now()")).isEqualTo(1);
            }
            try (Connection c = roles.connect(operator); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT state, tasks_done FROM pgpubsub.listener_heartbeat")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("running");
                    assertThat(rs.getLong(2)).isEqualTo(7);
                    assertThat(rs.next()).isFalse();
                }
                for (String sql : List.of("DELETE FROM pgpubsub.listener_heartbeat",
                        "UPDATE pgpubsub.listener_heartbeat SET state = 'stopped'")) {
                    assertThatThrownBy(() -> s.execute(sql)).as(sql).hasMessageContaining("permission denied");
                }
            }
            try (Connection c = roles.connect(publisher); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute("SELECT * FROM pgpubsub.listener_heartbeat"))
                        .hasMessageContaining("permission denied");
            }
        } finally {
            db.execute("DELETE FROM pgpubsub.listener_heartbeat");
        }
    }

    @Test
    void aPublisherPublishesWithKeysButCannotCancel() throws SQLException {
        DataSource ds = roles.dataSource(publisher);
        long id = Publisher.create().publish(ds, ORDERS, new Order(1), PublishOptions.defaults().key("k"));
        assertThat(Publisher.create().publish(ds, ORDERS, new Order(2), PublishOptions.defaults().key("k").replace()))
                .isEqualTo(id);
        assertThat(db.strings("SELECT payload->>'n' FROM pgpubsub.notification")).containsExactly("2");
        assertThatThrownBy(() -> Tasks.of(ds).cancel(id)).isInstanceOf(PgPubSubException.class)
                .hasMessageContaining("permission denied for function cancel")
                .hasMessageContaining("may execute pgpubsub.cancel");
    }

    /**
     * Version 5 replaces publish() (grants of EXECUTE made before it stay) and revokes EXECUTE from
     * PUBLIC: roles that could publish before still can, through both functions; others cannot.
     */
    @Test
    void rolesThatCouldPublishBeforeVersion5StillCanAfterIt(PostgresServer server) throws Exception {
        try (TestDatabase old = server.createDatabase("roles_upgrade")) {
            Flyway.configure(SchemaMigrator.class.getClassLoader()).dataSource(old.dataSource()).schemas("pgpubsub")
                    .defaultSchema("pgpubsub").createSchemas(true).table(SchemaMigrator.HISTORY_TABLE)
                    .locations(SchemaMigrator.LOCATION).placeholders(SchemaMigrator.placeholders("pgpubsub"))
                    .target("4").load().migrate();
            String suffix = roles.role("x").substring("pgpubsub_x_".length());
            String granted = "granted_" + suffix;
            String inserter = "inserter_" + suffix;
            String other = "other_" + suffix;
            List<String> all = List.of(granted, inserter, other);
            for (String role : all) {
                old.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + DocumentedRoles.PASSWORD + "'");
                old.execute("GRANT USAGE ON SCHEMA pgpubsub TO " + role);
            }
            try {
                // Granted EXECUTE outright; until version 5 that was of no use without rights on the table.
                old.execute("GRANT EXECUTE ON FUNCTION pgpubsub.publish(text, jsonb, timestamptz) TO " + granted);
                // Could publish before: insert (and read the id back) on the table, EXECUTE through PUBLIC.
                old.execute("GRANT SELECT, INSERT ON pgpubsub.notification TO " + inserter);
                assertThat(publishAs(old, inserter, "publish('orders', '{}')")).isNull();
                assertThat(publishAs(old, granted, "publish('orders', '{}')")).contains("permission denied for table");

                assertThat(PgPubSub.migrate(old.dataSource())).isEqualTo(6);

                old.execute("REVOKE ALL ON pgpubsub.notification FROM " + inserter);
                for (String role : List.of(granted, inserter)) {
                    assertThat(publishAs(old, role, "publish('orders', '{}')")).as(role).isNull();
                    assertThat(publishAs(old, role, "publish('orders', '{}', now())")).as(role).isNull();
                    assertThat(publishAs(old, role, "publish_all('orders', '[{}, {}]')")).as(role).isNull();
                    // Version 6 replaced both functions (a trace_context parameter): the grants carried over.
                    assertThat(publishAs(old, role, "publish('orders', '{}', trace_context => '{\"b3\": \"1\"}')"))
                            .as(role).isNull();
                    // And version 7 (key and on_conflict).
                    assertThat(publishAs(old, role, "publish('orders', '{}', key => '" + role + "')")).as(role).isNull();
                    assertThat(publishAs(old, role, "publish_all('orders', '[{}]', keys => ARRAY['" + role + "-all'])"))
                            .as(role).isNull();
                    // And version 9 (priority).
                    assertThat(publishAs(old, role, "publish('orders', '{}', priority => 9)")).as(role).isNull();
                    assertThat(publishAs(old, role, "publish_all('orders', '[{}]', priority => 9)")).as(role).isNull();
                }
                assertThat(publishAs(old, other, "publish('orders', '{}')")).contains("permission denied for function publish");
                assertThat(publishAs(old, other, "publish_all('orders', '[{}]')"))
                        .contains("permission denied for function publish_all");
                assertThat(old.number("SELECT count(*) FROM pgpubsub.notification")).isEqualTo(1 + 2 * 9);
            } finally {
                for (String role : all) {
                    old.execute("DROP OWNED BY " + role + " CASCADE");
                    old.execute("DROP ROLE " + role);
                }
            }
        }
    }

    /**
     * Version 10 adds the heartbeat table: roles granted before it as the page says for version 9 (a
     * listener may delete tasks, an operator read dead letters) are granted it by the migration, run by
     * another role than the owner, which keeps owning it.
     */
    @Test
    void rolesGrantedBeforeVersion10AreGrantedTheHeartbeatsByTheMigration(PostgresServer server) throws Exception {
        try (TestDatabase old = server.createDatabase("heartbeat_upgrade"); DocumentedRoles own = new DocumentedRoles(old)) {
            String owner = own.role("owner");
            Flyway.configure(SchemaMigrator.class.getClassLoader()).dataSource(own.dataSource(owner)).schemas("pgpubsub")
                    .defaultSchema("pgpubsub").createSchemas(true).table(SchemaMigrator.HISTORY_TABLE)
                    .locations(SchemaMigrator.LOCATION).placeholders(SchemaMigrator.placeholders("pgpubsub"))
                    .target("9").load().migrate();
            String listener = own.role("listener");
            String operator = own.role("operator");
            String publisher = own.role("publisher");
            try (Connection c = own.connect(owner); Statement st = c.createStatement()) {
                st.execute("GRANT USAGE ON SCHEMA pgpubsub TO " + listener + ", " + operator + ", " + publisher);
                st.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON pgpubsub.notification TO " + listener);
                st.execute("GRANT SELECT, INSERT ON pgpubsub.notification TO " + operator);
                st.execute("GRANT SELECT, DELETE ON pgpubsub.dead_letter TO " + operator);
            }

            assertThat(PgPubSub.migrate(old.dataSource())).isEqualTo(1); // as the server's superuser

            String privileges = "SELECT string_agg(p, ',' ORDER BY p) FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE',"
                    + " 'DELETE']) p WHERE has_table_privilege('%s', 'pgpubsub.listener_heartbeat', p)";
            assertThat(old.strings(String.format(privileges, listener))).containsExactly("DELETE,INSERT,SELECT,UPDATE");
            assertThat(old.strings(String.format(privileges, operator))).containsExactly("SELECT");
            assertThat(old.strings(String.format(privileges, publisher))).containsExactly((String) null);
            assertThat(old.strings("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'pgpubsub.listener_heartbeat'::regclass"))
                    .containsExactly(owner);
        }
    }

    /**
     * Versions 6 and 7 replace publish() and publish_all() (new parameters): run by another role
     * than the schema's owner (a superuser, here), the new functions keep the owner they run as, and
     * every grant, with its grant option; the functions they add have that owner too.
     */
    @Test
    void theFunctionsKeepTheirOwnerAndGrantsWhenAnotherRoleMigrates(PostgresServer server) throws Exception {
        try (TestDatabase old = server.createDatabase("owner_upgrade"); DocumentedRoles own = new DocumentedRoles(old)) {
            String owner = own.role("owner");
            Flyway.configure(SchemaMigrator.class.getClassLoader()).dataSource(own.dataSource(owner)).schemas("pgpubsub")
                    .defaultSchema("pgpubsub").createSchemas(true).table(SchemaMigrator.HISTORY_TABLE)
                    .locations(SchemaMigrator.LOCATION).placeholders(SchemaMigrator.placeholders("pgpubsub"))
                    .target("5").load().migrate();
            String publisher = own.login("publisher");
            try (Connection c = own.connect(owner); Statement st = c.createStatement()) {
                st.execute("GRANT USAGE ON SCHEMA pgpubsub TO " + publisher);
                st.execute("GRANT EXECUTE ON FUNCTION pgpubsub.publish(text, jsonb, timestamptz) TO " + publisher
                        + " WITH GRANT OPTION");
            }

            assertThat(PgPubSub.migrate(old.dataSource())).isPositive(); // as the server's superuser

            // Every function of the schema, old or new, runs as the owner; the old ones are gone.
            assertThat(old.strings("SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p "
                    + "WHERE p.pronamespace = 'pgpubsub'::regnamespace")).containsExactly(owner);
            assertThat(old.strings("SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
                    + "WHERE c.relnamespace = 'pgpubsub'::regnamespace")).containsExactly(owner);
            assertThat(old.strings("SELECT count(*)::text FROM pg_proc WHERE proname LIKE '%before_v%'")).containsExactly("0");
            assertThat(old.strings("SELECT acl.is_grantable::text FROM pg_proc f, aclexplode(f.proacl) acl "
                    + "WHERE f.pronamespace = 'pgpubsub'::regnamespace AND f.proname = 'publish' "
                    + "AND acl.grantee = '" + publisher + "'::regrole")).containsExactly("true");
            assertThat(publishAs(old, publisher, "publish('orders', '{}', trace_context => "
                    + "'{\"traceparent\": \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}')")).isNull();
            assertThat(publishAs(old, publisher, "publish_all('orders', '[{}]')"))
                    .contains("permission denied for function publish_all");
        }
    }

    /** Runs {@code SELECT pgpubsub.<call>} as {@code role}; null when it worked, else the error. */
    private static String publishAs(TestDatabase db, String role, String call) throws SQLException {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("SET ROLE " + role);
            try (PreparedStatement ps = c.prepareStatement("SELECT pgpubsub." + call)) {
                ps.executeQuery().close();
                return null;
            } catch (SQLException e) {
                return e.getMessage();
            }
        }
    }
}
