package dev.pgpubsub.listener;

/**
 * A change of a table row, as a trigger channel publishes it (see
 * {@code dev.pgpubsub.core.TriggerChannel}). Handlers take it as their payload, typed by the row:
 * {@code @Listen("order_changes") public void on(RowChange<Order> change)}.
 *
 * <p>Rows map to the record {@code T} by column name: a column {@code customer_id} fills a component
 * {@code customerId} (or {@code customer_id}); columns without a component are ignored. jsonb, arrays,
 * numeric, timestamptz and bytea columns map to {@code JsonNode}/records/maps, lists or arrays,
 * {@code BigDecimal}, {@code Instant}/{@code OffsetDateTime} and {@code byte[]}.
 *
 * @param op      what happened
 * @param table   the table, as {@code schema.table}
 * @param before  the row before the change (null for an insert)
 * @param after   the row after the change (null for a delete)
 * @param context the text the writing transaction set in {@code pgpubsub.context}
 *                (e.g. {@code SET LOCAL pgpubsub.context = '{"user": "ada"}'}), or null
 * @param <T>     the record rows map to
 */
public record RowChange<T>(Op op, String table, T before, T after, String context) {

    /** What happened to the row. */
    public enum Op {
        /** The row was inserted: {@code after} holds it. */
        INSERT,
        /** The row was updated: {@code before} and {@code after} hold it. */
        UPDATE,
        /** The row was deleted: {@code before} holds it. */
        DELETE
    }
}
