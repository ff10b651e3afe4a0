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
     * @return how many migrations were applied (0 when the schema was up to date)
     * @throws PgPubSubException when the database refuses the migration
     */
    public static int migrate(DataSource dataSource) {
        return migrate(dataSource, DEFAULT_SCHEMA);
    }

    /**
     * Creates or upgrades the installation in {@code schema}.
     *
     * @param schema lower-case letters, digits and underscores, at most 31 bytes
     * @return how many migrations were applied (0 when the schema was up to date)
     * @throws IllegalArgumentException when the schema name is not valid
     * @throws PgPubSubException when the database refuses the migration
     */
    public static int migrate(DataSource dataSource, String schema) {
        if (dataSource == null) {
            throw new IllegalArgumentException("dataSource is null: pass the DataSource of the database to install into");
        }
        return SchemaMigrator.migrate(dataSource, schema);
    }
}
