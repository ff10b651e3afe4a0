package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** Each test installs into a database of its own, created on the shared server. */
@PostgresTest
class SchemaMigrationTest {

    @Test
    void migratingTwiceIsANoOp(PostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("twice")) {
            assertThat(PgPubSub.migrate(db.dataSource())).isEqualTo(10);
            assertThat(PgPubSub.migrate(db.dataSource())).isZero();
            assertThat(db.strings("SELECT version FROM pgpubsub.flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank"))
                    .containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
            assertThat(db.strings("SELECT to_regclass('pgpubsub.notification')::text")).containsExactly("pgpubsub.notification");
        }
    }

    @Test
    void migratingBesideTheApplicationsOwnFlywayKeepsBothHistoriesApart(PostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("beside_app")) {
            Flyway application = Flyway.configure().dataSource(db.dataSource()).load();
            assertThat(application.migrate().migrationsExecuted).isEqualTo(1);

            assertThat(PgPubSub.migrate(db.dataSource())).isEqualTo(10);
            // The application's Flyway neither sees nor validates the library's migrations, and vice versa.
            assertThat(application.migrate().migrationsExecuted).isZero();
            assertThat(application.validateWithResult().validationSuccessful).isTrue();
            assertThat(PgPubSub.migrate(db.dataSource())).isZero();

            assertThat(db.strings("SELECT script FROM public.flyway_schema_history ORDER BY installed_rank"))
                    .containsExactly("V1__application_orders.sql");
            assertThat(db.strings("SELECT script FROM pgpubsub.flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank"))
                    .containsExactly("V1__notification_table_and_publish_function.sql", "V2__trigger_channel_functions.sql",
                            "V3__error_history_and_dead_letters.sql", "V4__claims_leave_a_trace_only_when_they_fail.sql",
                            "V5__publishers_need_only_execute.sql", "V6__trace_context.sql",
                            "V7__unique_keys_and_cancellation.sql", "V8__schedules.sql", "V9__priorities.sql",
                            "V10__listener_heartbeats.sql");
        }
    }

    @Test
    void migratingIntoAnotherSchemaPutsEverythingThere(PostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("other_schema")) {
            assertThat(PgPubSub.migrate(db.dataSource(), "tasks_v2")).isEqualTo(10);
            assertThat(db.strings("SELECT to_regclass('tasks_v2.notification')::text")).containsExactly("tasks_v2.notification");
            assertThat(db.strings("SELECT to_regclass('tasks_v2.flyway_schema_history')::text"))
                    .containsExactly("tasks_v2.flyway_schema_history");
            assertThat(db.strings("SELECT count(*)::text FROM pg_namespace WHERE nspname = 'pgpubsub'")).containsExactly("0");
            assertThat(db.strings("SELECT tasks_v2.publish('orders', '{}')::text")).containsExactly("1");
            assertThat(db.strings("SELECT tasks_v2.publish_all('orders', '[{}, {}]')::text")).containsExactly("{2,3}");
        }
    }

    @Test
    void processesMigratingAtOnceApplyTheSchemaOnce(PostgresServer server) throws Exception {
        try (TestDatabase db = server.createDatabase("concurrent")) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Integer>> runs = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    Callable<Integer> migrate = () -> PgPubSub.migrate(db.dataSource());
                    runs.add(pool.submit(migrate));
                }
                int applied = 0;
                for (Future<Integer> run : runs) {
                    applied += run.get(60, TimeUnit.SECONDS);
                }
                assertThat(applied).isEqualTo(10);
            } finally {
                pool.shutdownNow();
            }
            assertThat(db.strings("SELECT count(*)::text FROM pgpubsub.flyway_schema_history WHERE version IS NOT NULL"))
                    .containsExactly("10");
        }
    }

    @Test
    void anInvalidSchemaNameIsRefusedBeforeAnySqlRuns(TestDatabase db) throws Exception {
        assertThatThrownBy(() -> PgPubSub.migrate(db.dataSource(), "public; DROP TABLE x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'public; DROP TABLE x'")
                .hasMessageContaining("lower-case letters");
        assertThatThrownBy(() -> PgPubSub.migrate(db.dataSource(), "a".repeat(32)))
                .hasMessageContaining("at most 31");
        assertThat(db.strings("SELECT count(*)::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                + "AND nspname NOT IN ('public', 'information_schema')")).containsExactly("0");
    }

    @Test
    void anUnreachableDatabaseGivesAMessageThatSaysWhatToCheck(PostgresServer server) {
        org.postgresql.ds.PGSimpleDataSource nowhere = new org.postgresql.ds.PGSimpleDataSource();
        nowhere.setURL("jdbc:postgresql://localhost:" + server.port() + "/no_such_database?user=" + server.user());
        assertThatThrownBy(() -> PgPubSub.migrate(nowhere))
                .isInstanceOf(PgPubSubException.class)
                .hasMessageContaining("'pgpubsub'")
                .hasMessageContaining("no_such_database")
                .hasMessageContaining("Check that the database is reachable");
    }
}
