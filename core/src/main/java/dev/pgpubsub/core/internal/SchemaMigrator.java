package dev.pgpubsub.core.internal;

import dev.pgpubsub.core.PgPubSubException;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the library's migrations with a Flyway of its own: its own classpath location (so an
 * application's Flyway, which scans {@code db/migration}, never sees them) and its own history
 * table inside the installation's schema (so it never mixes with the application's history).
 */
public final class SchemaMigrator {

    /** Where the migrations live, in the core jar. */
    public static final String LOCATION = "classpath:dev/pgpubsub/schema";
    /** The history table, created inside the installation's schema. */
    public static final String HISTORY_TABLE = "flyway_schema_history";

    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

    private SchemaMigrator() {
    }

    /** Migrates the installation in {@code schema}; returns how many migrations ran (0 when up to date). */
    public static int migrate(DataSource dataSource, String schema) {
        Names.requireSchema(schema);
        Flyway flyway = Flyway.configure(SchemaMigrator.class.getClassLoader())
                .dataSource(dataSource)
                .schemas(schema)
                .defaultSchema(schema)
                .createSchemas(true)
                .table(HISTORY_TABLE)
                .locations(LOCATION)
                .failOnMissingLocations(true)
                .placeholders(placeholders(schema))
                .cleanDisabled(true)
                .load();
        try {
            MigrateResult result = flyway.migrate();
            LOG.info("pgpubsub schema '{}' is at version {} ({} migration(s) applied)",
                    schema, result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion,
                    result.migrationsExecuted);
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new PgPubSubException("Could not migrate the pgpubsub schema '" + schema + "': " + reason(e)
                    + ". Check that the database is reachable and that the user may create schema '" + schema
                    + "' and tables in it (or run the migration as the schema's owner).", e);
        }
    }

    /** What the driver or server said, if it said anything, else the first line of Flyway's message. */
    private static String reason(FlywayException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                return sql.getMessage() + " (SQLSTATE " + sql.getSQLState() + ")";
            }
        }
        String message = String.valueOf(e.getMessage());
        return message.lines().findFirst().orElse(message).strip();
    }

    /** The values the migration files refer to as {@code ${name}}. */
    public static Map<String, String> placeholders(String schema) {
        return Map.of("schema", schema, "max_channel_bytes", Integer.toString(Names.maxChannelBytes(schema)));
    }
}
