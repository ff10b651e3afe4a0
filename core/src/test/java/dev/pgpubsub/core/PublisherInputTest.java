package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Bad input is refused with a message that names the value and the fix, before any SQL reaches the
 * server: the server's own record of the connection's last statement proves it.
 */
@PostgresTest
class PublisherInputTest {

    record Note(String text) {
    }

    /** Jackson cannot serialize this: its accessor throws. */
    record Broken(String text) {
        @Override
        public String text() {
            throw new IllegalStateException("boom");
        }
    }

    static final Channel<Note> NOTES = Channel.of("notes", Note.class);

    private final TestDatabase db;

    PublisherInputTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @Test
    void aChannelTooLongForTheSchemaIsRefusedWithoutSql() throws SQLException {
        Channel<Note> longName = Channel.of("n".repeat(55), Note.class);
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publish(longName, new Note("x")),
                "'" + "n".repeat(55) + "'", "at most 54");
        Publisher shortSchema = Publisher.builder().schema("q").build();
        assertThat(shortSchema.schema()).isEqualTo("q");
    }

    @Test
    void aNullChannelIsRefusedEvenWithNothingToPublish() throws SQLException {
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publishAll(null, List.of()), "The channel is null");
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publish(null, new Note("x")), "The channel is null");
    }

    @Test
    void aNullPayloadIsRefusedWithoutSql() throws SQLException {
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publish(NOTES, null), "'notes' is null", Note.class.getName());
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publishAll(NOTES, Arrays.asList(new Note("a"), null)),
                "Payload #1 of 2", "'notes' is null");
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aPayloadOfTheWrongTypeIsRefusedWithoutSql() throws SQLException {
        Channel raw = NOTES;
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publish(raw, new Broken("x")),
                Broken.class.getName(), "carries " + Note.class.getName());
    }

    @Test
    void aPayloadThatDoesNotSerializeIsRefusedWithoutSql() throws SQLException {
        Channel<Broken> broken = Channel.of("broken", Broken.class);
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publish(broken, new Broken("x")),
                "does not serialize to JSON", Broken.class.getName());
    }

    @Test
    void aPayloadOverTheCapIsRefusedWithoutSql() throws SQLException {
        Publisher small = Publisher.builder().maxPayloadBytes(100).build();
        assertRefusedWithoutSql(c -> small.in(c).publish(NOTES, new Note("x".repeat(100))),
                "111 bytes of JSON, over the cap of 100 bytes", "maxPayloadBytes");
        assertRefusedWithoutSql(c -> small.in(c).publishAll(NOTES, List.of(new Note("x".repeat(100)))),
                "over the cap");
        Publisher defaults = Publisher.create();
        assertRefusedWithoutSql(c -> defaults.in(c).publish(NOTES, new Note("x".repeat(1 << 20))),
                "over the cap of 1048576 bytes");
    }

    @Test
    void aMissingRunAtIsRefused() throws SQLException {
        assertRefusedWithoutSql(c -> Publisher.create().in(c).publish(NOTES, new Note("x"), (java.time.Instant) null), "runAt is null");
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingTheSetting() {
        assertThatThrownBy(() -> Publisher.builder().maxPayloadBytes(0)).hasMessageContaining("maxPayloadBytes is 0");
        assertThatThrownBy(() -> Publisher.builder().schema("Bad-Schema")).hasMessageContaining("'Bad-Schema'");
        assertThatThrownBy(() -> Publisher.create().in((Connection) null)).hasMessageContaining("connection is null");
    }

    @Test
    void publishingWhereTheSchemaIsNotInstalledSaysHowToInstallIt() throws SQLException {
        Publisher elsewhere = Publisher.builder().schema("not_installed").build();
        try (Connection c = Drivers.STANDARD.begin(db)) {
            assertThatThrownBy(() -> elsewhere.in(c).publish(NOTES, new Note("x")))
                    .isInstanceOf(PgPubSubException.class)
                    .hasMessageContaining("'not_installed'")
                    .hasMessageContaining("PgPubSub.migrate(dataSource, \"not_installed\")");
        }
    }

    private void assertRefusedWithoutSql(SqlWork work, String... messageParts) throws SQLException {
        try (Connection c = Drivers.STANDARD.begin(db); Connection observer = db.connect()) {
            int pid = pid(c);
            String marker = "SELECT 'marker " + System.nanoTime() + "'";
            c.createStatement().execute(marker);
            ThrowingCallable call = () -> work.run(c);
            assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll(messageParts);
            assertThat(lastStatement(observer, pid)).as("last statement the server saw").isEqualTo(marker);
            c.rollback();
        }
        assertThat(db.number("SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String lastStatement(Connection observer, int pid) throws SQLException {
        try (Statement s = observer.createStatement();
                ResultSet rs = s.executeQuery("SELECT query FROM pg_stat_activity WHERE pid = " + pid)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @FunctionalInterface
    interface SqlWork {
        void run(Connection c) throws Exception;
    }
}
