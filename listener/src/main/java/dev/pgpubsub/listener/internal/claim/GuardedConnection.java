package dev.pgpubsub.listener.internal.claim;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;

/**
 * The claiming transaction's connection as handlers see it: everything works except what would end
 * or escape the transaction, which is refused with a message that says what to do instead.
 */
final class GuardedConnection implements InvocationHandler {

    private static final Set<String> REFUSED = Set.of("commit", "close", "setAutoCommit", "abort",
            "setTransactionIsolation", "setReadOnly");

    private final Connection target;

    private GuardedConnection(Connection target) {
        this.target = target;
    }

    static Connection wrap(Connection target) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                new GuardedConnection(target));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        boolean rollbackAll = name.equals("rollback") && (args == null || args.length == 0);
        if (REFUSED.contains(name) || rollbackAll) {
            throw new SQLException("A handler may not call Connection." + name + "(): its connection belongs to the "
                    + "transaction that claimed the task, which pgpubsub commits when the handler returns and rolls back "
                    + "when it throws. Return to commit; throw to roll back (savepoints work for partial undo).",
                    "25000");
        }
        if (name.equals("isClosed") || name.equals("getAutoCommit")) {
            return method.invoke(target, args);
        }
        if (name.equals("equals") && args != null && args.length == 1) {
            return proxy == args[0];
        }
        if (name.equals("hashCode") && args == null) {
            return System.identityHashCode(proxy);
        }
        if (name.equals("toString") && args == null) {
            return "claim transaction connection (" + target + ")";
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
