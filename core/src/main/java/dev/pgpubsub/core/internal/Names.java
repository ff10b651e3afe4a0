package dev.pgpubsub.core.internal;

import java.util.regex.Pattern;

/**
 * The naming rules of schemas and channels, checked in Java before any SQL runs. The database
 * enforces the channel rule again (a CHECK constraint), for rows written without this library.
 */
public final class Names {

    /** Postgres's identifier limit (NAMEDATALEN - 1), which NOTIFY channel names obey too. */
    public static final int MAX_IDENTIFIER_BYTES = 63;
    /** Leaves at least 31 bytes for channel names. */
    public static final int MAX_SCHEMA_BYTES = 31;

    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]*");
    private static final Pattern CHANNEL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private Names() {
    }

    /** Returns the schema name, or throws naming the value and the rule it breaks. */
    public static String requireSchema(String schema) {
        if (schema == null || schema.isEmpty()) {
            throw new IllegalArgumentException("The pgpubsub schema name is empty; use e.g. 'pgpubsub' (the default)");
        }
        if (!SCHEMA.matcher(schema).matches()) {
            throw new IllegalArgumentException("Schema name '" + schema + "' is not valid: use lower-case letters a-z, "
                    + "digits and underscores, starting with a letter or underscore (e.g. 'pgpubsub')");
        }
        if (schema.length() > MAX_SCHEMA_BYTES) {
            throw new IllegalArgumentException("Schema name '" + schema + "' is " + schema.length()
                    + " bytes long; at most " + MAX_SCHEMA_BYTES + " are allowed, so that channel names keep room "
                    + "within Postgres's " + MAX_IDENTIFIER_BYTES + "-byte limit. Choose a shorter name.");
        }
        return schema;
    }

    /** The longest channel name an installation in {@code schema} accepts. */
    public static int maxChannelBytes(String schema) {
        return MAX_IDENTIFIER_BYTES - requireSchema(schema).length() - 1;
    }

    /**
     * Returns the channel name, or throws naming the value and the rule it breaks. The length is
     * checked against the shortest possible schema; {@link #requireChannel(String, String)} checks it
     * against the real one.
     */
    public static String requireChannel(String channel) {
        if (channel == null || channel.isEmpty()) {
            throw new IllegalArgumentException("A channel name is empty; use letters, digits and underscores, e.g. 'orders'");
        }
        if (!CHANNEL.matcher(channel).matches()) {
            throw new IllegalArgumentException("Channel name '" + channel + "' is not valid: use ASCII letters, digits "
                    + "and underscores, starting with a letter or underscore (e.g. 'orders' or 'order_paid')");
        }
        int max = MAX_IDENTIFIER_BYTES - 2;
        if (channel.length() > max) {
            throw new IllegalArgumentException("Channel name '" + channel + "' is " + channel.length()
                    + " bytes long; at most " + max + " are possible (less the length of the schema name). "
                    + "Choose a shorter name.");
        }
        return channel;
    }

    /** Returns the channel name if it is valid in an installation in {@code schema}, or throws. */
    public static String requireChannel(String channel, String schema) {
        requireChannel(channel);
        int max = maxChannelBytes(schema);
        if (channel.length() > max) {
            throw new IllegalArgumentException("Channel name '" + channel + "' is " + channel.length()
                    + " bytes long; with schema '" + schema + "' at most " + max + " are allowed (the wake-up name '"
                    + schema + ".<channel>' must fit in " + MAX_IDENTIFIER_BYTES + " bytes). Choose a shorter name.");
        }
        return channel;
    }

    /** Who reads a message: a program that uses the library, or a person at the command line. */
    public enum Audience {
        /** Code that calls the library: name the Java call. */
        LIBRARY,
        /** The standalone process's user: name the command. */
        CLI
    }

    /** What to do when pgpubsub is not installed in {@code schema}: a sentence without its full stop. */
    public static String migrateHint(String schema) {
        return migrateHint(schema, Audience.LIBRARY);
    }

    /** What to do when pgpubsub is not installed in {@code schema}, said to {@code audience}; no full stop. */
    public static String migrateHint(String schema, Audience audience) {
        boolean standard = schema.equals("pgpubsub");
        return audience == Audience.CLI
                ? "Run bin/pgpubsub migrate" + (standard ? "" : " --schema " + schema) + " first"
                : "Run PgPubSub.migrate(dataSource" + (standard ? "" : ", \"" + schema + "\"") + ") first";
    }

    /** The whole message for a database without pgpubsub in {@code schema}, said to {@code audience}. */
    public static String notInstalled(String schema, Audience audience) {
        return "pgpubsub is not installed in schema '" + schema + "' of this database: " + migrateHint(schema, audience)
                + ", or point " + (audience == Audience.CLI ? "--jdbc-url and --schema" : "it")
                + " at the right database and schema.";
    }

    /** The NOTIFY channel that wakes the listeners of {@code channel}: {@code <schema>.<channel>}. */
    public static String wakeupChannel(String schema, String channel) {
        return requireSchema(schema) + "." + requireChannel(channel, schema);
    }

    /** Quotes an identifier for SQL text (LISTEN/UNLISTEN cannot take bind parameters). */
    public static String quoteIdentifier(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
