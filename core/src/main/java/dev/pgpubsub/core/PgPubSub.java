package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.SchemaMigrator;
import javax.sql.DataSource;

/**
 * The entry point of pgpubsub: installs and upgrades its schema.
 *
 * <p>Everything the library stores lives in one schema, {@value #DEFAULT_SCHEMA} unless another is
 * chosen, with its own Flyway history table there. The migration files are plain SQL under
 * {@code dev/pgpubsub/schema/} in the core jar, for teams that apply them with their own tool.
 */
public final class PgPubSub {

    /** The schema used when none is named. */
    public static final String DEFAULT_SCHEMA = "pgpubsub";

    private PgPubSub() {
    }

    /**
     * Creates or upgrades the schema {@value #DEFAULT_SCHEMA}. Running it again is a no-op, and
     * processes that run it at once are serialized by the database.
     *
     * @param dataSource the database to install into; its user needs the right to create the schema
     * @return how many migrations were applied (0 when the schema was up to date)
     * @throws PgPubSubException when the database refuses the migration
     */
    public static int migrate(DataSource dataSource) {
        return migrate(dataSource, DEFAULT_SCHEMA);
    }

    /**
     * Creates or upgrades the installation in {@code schema}.
     *
     * @param dataSource the database to install into; its user needs the right to create the schema
     * @param schema     lower-case letters, digits and underscores, at most 31 bytes
     * @return how many migrations were applied (0 when the schema was up to date)
     * @throws IllegalArgumentException when {@code dataSource} is null or the schema name is not valid
     * @throws PgPubSubException when the database refuses the migration
     */
    public static int migrate(DataSource dataSource, String schema) {
        if (dataSource == null) {
            throw new IllegalArgumentException("dataSource is null: pass the DataSource of the database to install into");
        }
        return SchemaMigrator.migrate(dataSource, schema);
    }

    /**
     * Creates (or replaces) the triggers of trigger channels, in one transaction, for the
     * installation in {@link #DEFAULT_SCHEMA}; see {@link TriggerChannel}.
     *
     * @param dataSource the database of the tables; its user must own them
     * @param channels   the trigger channels whose triggers to create
     * @throws PgPubSubException when the database refuses the triggers (none is then created)
     */
    public static void installTriggers(DataSource dataSource, TriggerChannel... channels) {
        installTriggers(dataSource, DEFAULT_SCHEMA, channels);
    }

    /**
     * Creates (or replaces) the triggers of trigger channels for the installation in {@code schema}.
     *
     * @param dataSource the database of the tables; its user must own them
     * @param schema     the schema of the installation the triggers publish to
     * @param channels   the trigger channels whose triggers to create
     * @throws IllegalArgumentException when the schema name is not valid, or a channel name too long for it
     * @throws PgPubSubException when the database refuses the triggers (none is then created)
     */
    public static void installTriggers(DataSource dataSource, String schema, TriggerChannel... channels) {
        StringBuilder sql = new StringBuilder();
        for (TriggerChannel channel : channels) {
            sql.append(channel.installSql(schema));
        }
        execute(dataSource, sql.toString(), "install the triggers of " + java.util.List.of(channels));
    }

    /**
     * Removes the triggers of trigger channels (their published tasks stay).
     *
     * @param dataSource the database of the tables; its user must own them
     * @param schema     the schema of the installation the triggers publish to
     * @param channels   the trigger channels whose triggers to drop; triggers that do not exist are skipped
     * @throws IllegalArgumentException when the schema name is not valid
     * @throws PgPubSubException when the database refuses to drop the triggers (none is then dropped)
     */
    public static void dropTriggers(DataSource dataSource, String schema, TriggerChannel... channels) {
        StringBuilder sql = new StringBuilder();
        for (TriggerChannel channel : channels) {
            sql.append(channel.dropSql(schema));
        }
        execute(dataSource, sql.toString(), "drop the triggers of " + java.util.List.of(channels));
    }

    private static void execute(DataSource dataSource, String sql, String what) {
        try (java.sql.Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (java.sql.Statement s = c.createStatement()) {
                s.execute(sql);
                c.commit();
            } catch (java.sql.SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (java.sql.SQLException e) {
            throw new PgPubSubException("Could not " + what + ": " + e.getMessage() + " (SQLSTATE " + e.getSQLState()
                    + "). Check that the table and columns exist, that pgpubsub is installed (PgPubSub.migrate) and that "
                    + "the user owns the table.", e);
        }
    }
}
