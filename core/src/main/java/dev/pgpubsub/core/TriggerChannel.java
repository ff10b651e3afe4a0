package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.Names;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A channel fed by triggers on a table: every insert, update or delete of a row becomes a task,
 * whoever wrote it (the application, psql, another service), in the writer's transaction.
 *
 * <pre>{@code
 * TriggerChannel orderChanges = TriggerChannel.forTable("public", "orders")
 *         .channel("order_changes")
 *         .events(TriggerChannel.Event.INSERT, TriggerChannel.Event.UPDATE)
 *         .onlyWhenChanged("status")
 *         .build();
 * PgPubSub.installTriggers(dataSource, orderChanges);   // or print orderChanges.installSql("pgpubsub")
 * }</pre>
 *
 * <p>Row-level AFTER triggers insert one task per changed row, with the row before and after the
 * change; a statement-level trigger sends one wake-up per statement (folded to one per
 * transaction), so a bulk update of 100,000 rows sends one NOTIFY. The trigger functions are
 * SECURITY DEFINER with a fixed search_path: writers need no rights on the notification table.
 */
public final class TriggerChannel {

    /** The row events a trigger channel can capture. */
    public enum Event {
        /** A row was inserted. */
        INSERT,
        /** A row was updated. */
        UPDATE,
        /** A row was deleted. */
        DELETE
    }

    /** Trigger names are {@code pgpubsub_<channel>_<event>}: the channel leaves room for that. */
    static final int MAX_CHANNEL_BYTES = Names.MAX_IDENTIFIER_BYTES - "pgpubsub_".length() - "_wake".length();

    private final String tableSchema;
    private final String table;
    private final String channel;
    private final Set<Event> events;
    private final List<String> changedColumns;
    private final String when;

    private TriggerChannel(Builder b) {
        this.tableSchema = b.tableSchema;
        this.table = b.table;
        this.channel = b.channel;
        this.events = EnumSet.copyOf(b.events);
        this.changedColumns = List.copyOf(b.changedColumns);
        this.when = b.when;
    }

    /**
     * A trigger channel on {@code table} in schema {@code public}.
     *
     * @param table the table's name, as Postgres stores it (not quoted, case-sensitive)
     * @return a builder for the channel
     * @throws IllegalArgumentException when the name is empty, holds a NUL or is over 63 bytes
     */
    public static Builder forTable(String table) {
        return forTable("public", table);
    }

    /**
     * A trigger channel on {@code schema.table}.
     *
     * @param schema the table's schema, as Postgres stores it (not quoted, case-sensitive)
     * @param table  the table's name, as Postgres stores it (not quoted, case-sensitive)
     * @return a builder for the channel
     * @throws IllegalArgumentException when a name is empty, holds a NUL or is over 63 bytes
     */
    public static Builder forTable(String schema, String table) {
        return new Builder(requireIdentifier("table schema", schema), requireIdentifier("table", table));
    }

    /**
     * The channel the changes are published to.
     *
     * @return the channel name
     */
    public String channel() {
        return channel;
    }

    /**
     * The SQL that (re)creates this channel's triggers for the installation in {@code schema}:
     * drops any earlier definition of them first, so that running it again replaces them cleanly.
     * Needs the schema installed ({@link PgPubSub#migrate}).
     *
     * @param schema the schema of the installation the triggers publish to
     * @return SQL statements, one a line, to run in one transaction
     * @throws IllegalArgumentException when the schema name is not valid, or the channel name too long for it
     */
    public String installSql(String schema) {
        Names.requireSchema(schema);
        Names.requireChannel(channel, schema);
        StringBuilder sql = new StringBuilder(dropSql(schema));
        String target = " ON " + qualifiedTable();
        String capture = " EXECUTE FUNCTION " + schema + ".capture_row_change('" + channel + "');\n";
        String userCondition = when == null ? null : "(" + when + ")";
        if (events.contains(Event.INSERT)) {
            sql.append("CREATE TRIGGER ").append(triggerName("ins")).append(" AFTER INSERT").append(target)
                    .append(" FOR EACH ROW").append(userCondition == null ? "" : " WHEN " + userCondition).append(capture);
        }
        if (events.contains(Event.UPDATE)) {
            List<String> conditions = new ArrayList<>();
            String of = "";
            if (!changedColumns.isEmpty()) {
                of = " OF " + changedColumns.stream().map(Names::quoteIdentifier).collect(Collectors.joining(", "));
                conditions.add("(" + columns("OLD") + ") IS DISTINCT FROM (" + columns("NEW") + ")");
            }
            if (userCondition != null) {
                conditions.add(userCondition);
            }
            sql.append("CREATE TRIGGER ").append(triggerName("upd")).append(" AFTER UPDATE").append(of).append(target)
                    .append(" FOR EACH ROW").append(conditions.isEmpty() ? "" : " WHEN (" + String.join(" AND ", conditions) + ")")
                    .append(capture);
        }
        if (events.contains(Event.DELETE)) {
            sql.append("CREATE TRIGGER ").append(triggerName("del")).append(" AFTER DELETE").append(target)
                    .append(" FOR EACH ROW").append(userCondition == null ? "" : " WHEN " + userCondition).append(capture);
        }
        sql.append("CREATE TRIGGER ").append(triggerName("wake")).append(" AFTER ")
                .append(events.stream().map(Enum::name).collect(Collectors.joining(" OR "))).append(target)
                .append(" FOR EACH STATEMENT EXECUTE FUNCTION ").append(schema).append(".wake_channel('").append(channel)
                .append("');\n");
        return sql.toString();
    }

    /**
     * The SQL that removes this channel's triggers (the tasks already published stay).
     *
     * @param schema the schema of the installation the triggers publish to
     * @return {@code DROP TRIGGER IF EXISTS} statements, one a line
     * @throws IllegalArgumentException when the schema name is not valid
     */
    public String dropSql(String schema) {
        Names.requireSchema(schema);
        StringBuilder sql = new StringBuilder();
        for (String suffix : new String[] {"ins", "upd", "del", "wake"}) {
            sql.append("DROP TRIGGER IF EXISTS ").append(triggerName(suffix)).append(" ON ").append(qualifiedTable())
                    .append(";\n");
        }
        return sql.toString();
    }

    @Override
    public String toString() {
        return "TriggerChannel[" + channel + " <- " + qualifiedTable() + " " + events + "]";
    }

    private String qualifiedTable() {
        return Names.quoteIdentifier(tableSchema) + "." + Names.quoteIdentifier(table);
    }

    private String triggerName(String suffix) {
        return Names.quoteIdentifier("pgpubsub_" + channel + "_" + suffix);
    }

    private String columns(String row) {
        return changedColumns.stream().map(c -> row + "." + Names.quoteIdentifier(c)).collect(Collectors.joining(", "));
    }

    private static String requireIdentifier(String what, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("The " + what + " name is empty: name an existing " + what);
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("The " + what + " name '" + name.replace("\0", "\\0")
                    + "' contains a NUL character, which Postgres identifiers cannot hold");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > Names.MAX_IDENTIFIER_BYTES) {
            throw new IllegalArgumentException("The " + what + " name '" + name + "' is longer than Postgres's "
                    + Names.MAX_IDENTIFIER_BYTES + "-byte identifier limit");
        }
        return name;
    }

    /** Settings of a {@link TriggerChannel}. */
    public static final class Builder {
        private final String tableSchema;
        private final String table;
        private String channel;
        private Set<Event> events = EnumSet.allOf(Event.class);
        private List<String> changedColumns = List.of();
        private String when;

        private Builder(String tableSchema, String table) {
            this.tableSchema = tableSchema;
            this.table = table;
        }

        /**
         * The channel to publish the changes to (required; at most 49 bytes).
         *
         * @param channel the channel name: ASCII letters, digits and underscores, starting with a
         *                letter or underscore
         * @return this builder
         * @throws IllegalArgumentException when the name breaks the naming rule or is too long
         */
        public Builder channel(String channel) {
            Names.requireChannel(channel);
            if (channel.length() > MAX_CHANNEL_BYTES) {
                throw new IllegalArgumentException("Trigger channel name '" + channel + "' is " + channel.length()
                        + " bytes long; at most " + MAX_CHANNEL_BYTES + " are allowed, so that its trigger names fit "
                        + "Postgres's identifier limit. Choose a shorter name.");
            }
            this.channel = channel;
            return this;
        }

        /**
         * The events to capture; default all three.
         *
         * @param events one or more events
         * @return this builder
         * @throws IllegalArgumentException when no event is given
         */
        public Builder events(Event... events) {
            if (events == null || events.length == 0) {
                throw new IllegalArgumentException("No events: give at least one of INSERT, UPDATE, DELETE");
            }
            this.events = EnumSet.copyOf(List.of(events));
            return this;
        }

        /**
         * Captures an update only when one of these columns actually changes
         * ({@code WHEN (OLD.c IS DISTINCT FROM NEW.c)}; {@code UPDATE OF c} alone would fire whenever
         * c is assigned, even to its old value). Inserts and deletes are not affected.
         *
         * @param columns the columns' names, as Postgres stores them; none to capture every update
         * @return this builder
         * @throws IllegalArgumentException when a name is empty, holds a NUL or is over 63 bytes
         */
        public Builder onlyWhenChanged(String... columns) {
            List<String> checked = new ArrayList<>();
            for (String column : columns) {
                checked.add(requireIdentifier("column", column));
            }
            this.changedColumns = checked;
            return this;
        }

        /**
         * An extra condition for the row triggers, as SQL (trusted text of your own, never user
         * input): reference {@code NEW} for inserts and updates, {@code OLD} for deletes.
         *
         * @param condition a boolean SQL expression, e.g. {@code NEW.status <> 'draft'}
         * @return this builder
         * @throws IllegalArgumentException when the condition is null or blank
         */
        public Builder when(String condition) {
            if (condition == null || condition.isBlank()) {
                throw new IllegalArgumentException("The WHEN condition is empty; leave it unset for none");
            }
            this.when = condition;
            return this;
        }

        /**
         * The trigger channel.
         *
         * @return a new trigger channel with these settings
         * @throws IllegalArgumentException when no channel was named
         */
        public TriggerChannel build() {
            if (channel == null) {
                throw new IllegalArgumentException("No channel: call channel(\"order_changes\") to name where changes of "
                        + tableSchema + "." + table + " are published");
            }
            return new TriggerChannel(this);
        }
    }
}
