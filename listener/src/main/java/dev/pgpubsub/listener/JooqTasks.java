package dev.pgpubsub.listener;

import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * jOOQ in a handler. Needs jOOQ (3.19 or newer) on the class path; the rest of the library does not.
 *
 * <pre>{@code
 * @Listen("orders")
 * public void onOrderPlaced(OrderPlaced order, TaskContext context) {
 *     JooqTasks.dsl(context).insertInto(INVOICES).set(INVOICES.ORDER_ID, order.orderId()).execute();
 * }
 * }</pre>
 */
public final class JooqTasks {

    private JooqTasks() {
    }

    /**
     * A {@code DSLContext} on the task's transaction ({@link TaskContext#connection()}): what it writes
     * commits exactly when the task is marked done. Like the connection, it refuses to commit or roll
     * back; do not start jOOQ transactions on it, and do not keep it after the handler returns.
     *
     * @param context the context the handler was called with
     * @return a {@code DSLContext} (dialect {@code POSTGRES}) on the task's connection
     * @throws IllegalArgumentException when {@code context} is null
     */
    public static DSLContext dsl(TaskContext context) {
        if (context == null) {
            throw new IllegalArgumentException("The TaskContext is null: pass the one your handler was called with");
        }
        return DSL.using(context.connection(), SQLDialect.POSTGRES);
    }
}
