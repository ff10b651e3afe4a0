package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Nothing a handler does to its transaction can break exactly-once: every path to ending it is
 * refused, and a handler that leaves it aborted fails alone while its batch-mates are redone
 * without being charged an attempt.
 */
@PostgresTest
class HandlerCannotBreakExactlyOnceTest {

    private static final RetryPolicy FAST = new RetryPolicy(5, Duration.ofMillis(20), Duration.ofMillis(100), 0.2);

    private final TestDatabase db;

    HandlerCannotBreakExactlyOnceTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
        db.execute("DROP TABLE IF EXISTS once");
        db.execute("CREATE TABLE once (n bigint PRIMARY KEY)");
    }

    /** Ways a handler could try to end its transaction itself. */
    enum Escape {
        SQL_COMMIT {
            @Override
            void run(Connection c) throws SQLException {
                try (Statement s = c.createStatement()) {
                    s.execute("COMMIT");
                }
            }
        },
        SQL_ROLLBACK {
            @Override
            void run(Connection c) throws SQLException {
                try (Statement s = c.createStatement()) {
                    s.execute("/* undo */ rollback");
                }
            }
        },
        SQL_END_AFTER_A_WRITE {
            @Override
            void run(Connection c) throws SQLException {
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT 1; END; SELECT 2");
                }
            }
        },
        PREPARED_COMMIT {
            @Override
            void run(Connection c) throws SQLException {
                try (PreparedStatement ps = c.prepareStatement("commit")) {
                    ps.execute();
                }
            }
        },
        UNWRAP {
            @Override
            void run(Connection c) throws SQLException {
                c.unwrap(Connection.class).commit();
            }
        },
        UNWRAP_DRIVER_CONNECTION {
            @Override
            void run(Connection c) throws SQLException {
                ((Connection) c.unwrap(org.postgresql.PGConnection.class)).commit();
            }
        },
        STATEMENT_GET_CONNECTION {
            @Override
            void run(Connection c) throws SQLException {
                try (Statement s = c.createStatement()) {
                    s.getConnection().commit();
                }
            }
        },
        RESULT_SET_GET_STATEMENT {
            @Override
            void run(Connection c) throws SQLException {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                    rs.getStatement().getConnection().rollback();
                }
            }
        },
        METADATA_GET_CONNECTION {
            @Override
            void run(Connection c) throws SQLException {
                c.getMetaData().getConnection().commit();
            }
        },
        JOOQ_COMMIT {
            @Override
            void run(Connection c) {
                org.jooq.impl.DSL.using(c, org.jooq.SQLDialect.POSTGRES).commit().execute();
            }
        };

        abstract void run(Connection c) throws Exception;
    }

    /**
     * Task 2 tries to end the transaction (and carries on if refused), task 3 throws on its first
     * attempt. Today a COMMIT in task 2 commits the deletion of tasks 3-5, which then vanish when task
     * 3 throws; a ROLLBACK undoes the deletions while later writes still commit.
     */
    @ParameterizedTest
    @EnumSource(Escape.class)
    void aHandlerCannotEndTheTransactionThatClaimedItsTask(Escape escape) throws Exception {
        Set<String> refusals = ConcurrentHashMap.newKeySet();
        Fixtures.publishOrders(db, 1, 6);
        try (Listener listener = listenerFor(db).workers(1).batchSize(5).retryPolicy(FAST)
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), "x");
                    if (o.n() == 2 && ctx.attempt() == 1) {
                        try {
                            escape.run(ctx.connection());
                        } catch (Exception e) {
                            refusals.add(String.valueOf(e.getMessage()));
                        }
                    }
                    if (o.n() == 3 && ctx.attempt() == 1) {
                        throw new IllegalStateException("task 3 fails once");
                    }
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0
                    && count(db, "SELECT count(*) FROM handled") >= 5);
            assertThat(listener.stats().tasksDone()).isEqualTo(5);
        }
        // Each task's effect exactly once: nothing vanished, nothing doubled.
        assertThat(db.strings("SELECT n::text FROM handled ORDER BY n")).containsExactly("1", "2", "3", "4", "5");
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
        assertThat(refusals).as("the handler was told why it may not do that").singleElement().asString()
                .contains("may not");
    }

    /**
     * The common "ignore the duplicate key" pattern: the SQL error is caught, but the transaction is
     * aborted. That handler fails alone; its batch-mates run again without being charged. (With
     * pgjdbc-ng worker connections, the commit of an aborted transaction rolled back silently and
     * the batch counted as done.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"jdbc:postgresql:", "jdbc:pgsql:"})
    void aHandlerThatLeavesTheTransactionAbortedFailsAloneAndItsBatchMatesAreNotCharged(String driver) throws Exception {
        db.execute("INSERT INTO once VALUES (3)");
        Fixtures.publishOrders(db, 1, 6);
        try (Listener listener = listenerFor(db).jdbcUrl(db.jdbcUrl().replace("jdbc:postgresql:", driver))
                .workers(1).batchSize(5).retryPolicy(FAST)
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), "x");
                    if (o.n() == 3 && ctx.attempt() == 1) {
                        try (Statement s = ctx.connection().createStatement()) {
                            s.execute("INSERT INTO once VALUES (3)"); // duplicate key
                        } catch (SQLException ignored) {
                            // "already done": return as if all went well, as many handlers do
                        }
                    }
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 5
                    && count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(listener.stats().tasksFailed()).isEqualTo(1);
            assertThat(listener.stats().tasksDone()).isEqualTo(5);
        }
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n"))
                .containsExactly("1:1", "2:1", "3:2", "4:1", "5:1");
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
    }

    /**
     * Postgres ends a transaction that a failed statement aborted at once, row locks included, though
     * the session still waits for the ROLLBACK: the claim's rows must stay held while the listener
     * notes the claim as released, or another worker could claim them first and charge each an
     * attempt. Checked from another session, while the failing handler still runs.
     */
    @ParameterizedTest
    @ValueSource(strings = {"jdbc:postgresql:", "jdbc:pgsql:"})
    void aHandlersFailedStatementLeavesTheBatchHeldUntilTheListenerRollsBack(String driver) throws Exception {
        db.execute("INSERT INTO once VALUES (3)");
        Fixtures.publishOrders(db, 1, 6);
        List<Long> freeWhileFailing = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Listener listener = listenerFor(db).jdbcUrl(db.jdbcUrl().replace("jdbc:postgresql:", driver))
                .workers(1).batchSize(5).retryPolicy(FAST)
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), "x");
                    if (o.n() == 3 && ctx.attempt() == 1) {
                        try (Statement s = ctx.connection().createStatement()) {
                            s.execute("INSERT INTO once VALUES (3)"); // duplicate key: the statement fails
                        } catch (SQLException duplicate) {
                            freeWhileFailing.add(count(db, "SELECT count(*) FROM (SELECT id FROM pgpubsub.notification"
                                    + " FOR UPDATE SKIP LOCKED) free"));
                            throw duplicate;
                        }
                    }
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 5
                    && count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
            assertThat(listener.stats().tasksFailed()).isEqualTo(1);
        }
        assertThat(freeWhileFailing).as("rows another session could claim while the handler failed").containsExactly(0L);
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n"))
                .containsExactly("1:1", "2:1", "3:2", "4:1", "5:1");
    }

    /** The listener's own savepoint, which the handlers run after, is not theirs to roll back to or release. */
    @Test
    void aHandlerMayNotReachPastItsOwnWorkThroughTheListenersSavepoint() throws Exception {
        Fixtures.publishOrders(db, 1, 3);
        List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Listener listener = listenerFor(db).workers(1).batchSize(5).retryPolicy(FAST)
                .on(ORDERS, (o, ctx) -> {
                    recordHandled(ctx, o.n(), "x");
                    if (o.n() == 2) {
                        for (String sql : List.of("ROLLBACK TO SAVEPOINT pgpubsub_handlers", "RELEASE pgpubsub_handlers")) {
                            try (Statement s = ctx.connection().createStatement()) {
                                s.execute(sql);
                            } catch (SQLException e) {
                                refusals.add(e.getMessage());
                            }
                        }
                    }
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0
                    && count(db, "SELECT count(*) FROM handled") == 2);
            assertThat(listener.stats().tasksFailed()).isZero();
        }
        assertThat(refusals).hasSize(2).allSatisfy(m -> assertThat(m).contains("may not"));
        // Task 1's work, done before task 2 ran, stayed.
        assertThat(db.strings("SELECT n || ':' || attempt FROM handled ORDER BY n")).containsExactly("1:1", "2:1");
    }

    @Test
    void theRefusalSaysWhatToDoInstead() throws Exception {
        Set<String> messages = ConcurrentHashMap.newKeySet();
        Fixtures.publishOrders(db, 1, 2);
        try (Listener listener = listenerFor(db).on(ORDERS, (o, ctx) -> {
            for (String sql : List.of("COMMIT", "begin", "START TRANSACTION", "abort", "commit and chain",
                    "PREPARE TRANSACTION 'x'", "  -- comment\n COMMIT")) {
                try (Statement s = ctx.connection().createStatement()) {
                    s.execute(sql);
                } catch (SQLException e) {
                    messages.add(sql.strip() + " => " + e.getMessage());
                }
            }
            try (Statement s = ctx.connection().createStatement()) {
                s.execute("SAVEPOINT s1; ROLLBACK TO SAVEPOINT s1; RELEASE s1"); // savepoints stay allowed
            }
            recordHandled(ctx, o.n(), "x");
        }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 1);
            assertThat(listener.stats().tasksFailed()).isZero();
        }
        assertThat(messages).hasSize(7).allSatisfy(m -> assertThat(m)
                .contains("may not end the transaction").contains("Return to commit; throw to roll back"));
    }
}
