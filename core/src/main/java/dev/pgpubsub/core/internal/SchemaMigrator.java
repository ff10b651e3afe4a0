package dev.pgpubsub.core.internal;

import dev.pgpubsub.core.PgPubSubException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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

    /** The SQLSTATE of a missing privilege. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

    private SchemaMigrator() {
    }

    /** Migrates the installation in {@code schema}; returns how many migrations ran (0 when up to date). */
    public static int migrate(DataSource dataSource, String schema) {
        Names.requireSchema(schema);
        requireCreatePrivilege(dataSource, schema);
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

    /**
     * Refuses at once, with SQLSTATE 42501 (insufficient_privilege), when Flyway would have to create
     * the schema or its history table and the user may not. Flyway retries both creations ten times,
     * a second apart, so without this check a missing privilege takes eleven seconds to report, though
     * waiting cannot fix it.
     */
    private static void requireCreatePrivilege(DataSource dataSource, String schema) {
        String sql = "SELECT n.oid IS NOT NULL,"
                + " EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = ?),"
                + " CASE WHEN n.oid IS NULL THEN has_database_privilege(current_database(), 'CREATE')"
                + " ELSE has_schema_privilege(n.oid, 'CREATE') AND has_schema_privilege(n.oid, 'USAGE') END,"
                + " current_user, current_database()"
                + " FROM (SELECT 1) one LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = ?";
        String refusal;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, HISTORY_TABLE);
            ps.setString(2, schema);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                boolean schemaExists = rs.getBoolean(1);
                boolean historyExists = rs.getBoolean(2);
                boolean mayCreate = rs.getBoolean(3);
                if (historyExists || mayCreate) {
                    return;
                }
                String user = rs.getString(4);
                String database = rs.getString(5);
                refusal = schemaExists
                        ? "user '" + user + "' may not create tables in schema '" + schema + "' (permission denied). "
                                + "Run the migration as the schema's owner, or grant it: GRANT USAGE, CREATE ON SCHEMA "
                                + schema + " TO " + user
                        : "user '" + user + "' may not create schema '" + schema + "' in database '" + database
                                + "' (permission denied). Run the migration as a user who may (e.g. the database's owner), "
                                + "or grant it: GRANT CREATE ON DATABASE " + database + " TO " + user;
            }
        } catch (SQLException e) {
            throw new PgPubSubException("Could not migrate the pgpubsub schema '" + schema + "': " + e.getMessage()
                    + " (SQLSTATE " + e.getSQLState() + "). Check that the database is reachable.", e);
        }
        throw new PgPubSubException("Could not migrate the pgpubsub schema '" + schema + "': " + refusal + ".",
                new SQLException(refusal, INSUFFICIENT_PRIVILEGE));
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
