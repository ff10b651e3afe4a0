package dev.pgpubsub.listener.internal.guard;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Array;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;

/**
 * The claiming transaction's connection as one handler sees it. Everything works except what would
 * end the transaction or reach past it: {@code commit}, {@code rollback()}, {@code close},
 * {@code setAutoCommit}, {@code abort}, changes of isolation, read-only mode, schema or catalog,
 * {@code unwrap} to anything but the guarded connection, and SQL that ends or starts a transaction.
 * Every object a handler can get from it (statements, result sets, metadata, arrays) is guarded the
 * same way, so that {@code getConnection()} on any of them leads back here.
 *
 * <p>After each statement, the guard reads the transaction state the driver got from the server (no
 * round trip). {@link #verdict()} tells, once the handler returned, whether the transaction is still
 * the claiming one and usable.
 */
public final class TransactionGuard {

    /** What a handler is told when it tries to end its transaction. */
    static final String TELL = "Its connection belongs to the transaction that claimed the task, which pgpubsub "
            + "commits when the handler returns and rolls back when it throws. Return to commit; throw to roll "
            + "back (savepoints work for partial undo).";

    private static final Set<String> REFUSED = Set.of("commit", "close", "setAutoCommit", "abort",
            "setTransactionIsolation", "setReadOnly", "setSchema", "setCatalog", "setNetworkTimeout");
    private static final List<Class<?>> GUARDED = List.of(CallableStatement.class, PreparedStatement.class,
            Statement.class, ResultSet.class, DatabaseMetaData.class, Array.class, Connection.class);

    private final Connection raw;
    private final TransactionState.Probe probe;
    private final Connection connection;
    private volatile boolean over;
    private volatile String refused;
    private volatile SQLException lastError;
    private volatile boolean ended;

    private TransactionGuard(Connection raw, TransactionState.Probe probe) {
        this.raw = raw;
        this.probe = probe;
        this.connection = (Connection) proxy(raw, Connection.class);
    }

    /**
     * Guards {@code raw}, whose transaction is open.
     *
     * @param raw   the claiming transaction's connection
     * @param probe reads its transaction state without a round trip; null when the driver offers none
     * @return the guard
     */
    public static TransactionGuard of(Connection raw, TransactionState.Probe probe) {
        return new TransactionGuard(raw, probe);
    }

    /**
     * The guarded connection, for the handler.
     *
     * @return a connection that refuses to end its transaction
     */
    public Connection connection() {
        return connection;
    }

    /** The handler returned: from now on its connection (and everything got from it) refuses every call. */
    public void close() {
        over = true;
    }

    /**
     * Whether the handler left the transaction as it found it, read once it returned.
     *
     * @return null when the transaction is still open and usable; else why not, for the task's error history
     * @throws SQLException when the driver cannot tell (the connection is closed)
     */
    public String verdict() throws SQLException {
        TransactionState state = probe == null ? null : probe.read();
        if (state != TransactionState.FAILED && !ended && lastError != null) {
            // A statement failed and the handler carried on. A driver may not have read the server's
            // ReadyForQuery yet (pgjdbc-ng reads it on another thread), and one the library does not
            // know reports nothing: ask the server, which costs a round trip only after an error.
            state = aborted() ? TransactionState.FAILED : state;
        }
        if (ended || state == TransactionState.IDLE) {
            return "the handler ended the claiming transaction" + (refused == null ? "" : " (" + refused + ")");
        }
        if (state == TransactionState.FAILED) {
            SQLException cause = lastError;
            return "the handler left its transaction aborted by an SQL error it caught"
                    + (cause == null ? "" : ": " + cause.getMessage() + " (SQLSTATE " + cause.getSQLState() + ")")
                    + ". Roll back to a savepoint after such an error, or let it propagate.";
        }
        return null;
    }

    /**
     * Whether the transaction ended under the handler (by a path the guard does not cover).
     *
     * @return true if the driver saw it end
     */
    public boolean ended() {
        if (ended) {
            return true;
        }
        noteState();
        return ended;
    }

    /** Whether the transaction is aborted, by a statement that fails with SQLSTATE 25P02 if it is. */
    private boolean aborted() throws SQLException {
        try (Statement s = raw.createStatement()) {
            s.execute("SELECT 1");
            return false;
        } catch (SQLException e) {
            if ("25P02".equals(e.getSQLState())) {
                return true;
            }
            throw e;
        }
    }

    private Object proxy(Object target, Class<?> type) {
        return Proxy.newProxyInstance(TransactionGuard.class.getClassLoader(), new Class<?>[] {type}, new Handler(target));
    }

    private final class Handler implements InvocationHandler {
        private final Object target;

        Handler(Object target) {
            this.target = target;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "equals":
                    return args != null && args.length == 1 && proxy == args[0];
                case "hashCode":
                    if (args == null) {
                        return System.identityHashCode(proxy);
                    }
                    break;
                case "toString":
                    if (args == null) {
                        return "guarded " + target;
                    }
                    break;
                case "isClosed":
                    if (args == null && target == raw) {
                        return over || raw.isClosed();
                    }
                    break;
                case "unwrap":
                    if (args != null && args.length == 1 && args[0] instanceof Class<?> iface) {
                        if (iface.isInstance(proxy)) {
                            return proxy;
                        }
                        throw refuse("unwrap(" + iface.getName() + ")", "A handler may not unwrap its connection "
                                + "or its statements: that would reach past the claiming transaction. ");
                    }
                    break;
                case "isWrapperFor":
                    if (args != null && args.length == 1 && args[0] instanceof Class<?> iface) {
                        return iface.isInstance(proxy);
                    }
                    break;
                case "getConnection":
                    if (args == null) {
                        check(name);
                        return connection;
                    }
                    break;
                default:
                    break;
            }
            check(name);
            if (target == raw && (REFUSED.contains(name) || (name.equals("rollback") && args == null))) {
                throw refuse("Connection." + name + "()", "A handler may not end the transaction or change how it "
                        + "runs: Connection." + name + "() is refused. ");
            }
            if (args != null && args.length > 0 && args[0] instanceof String sql && isSql(name)) {
                String command = TransactionControl.find(sql);
                if (command != null) {
                    throw refuse(command, "A handler may not end the transaction, start another, or change how "
                            + "the next ones run: its SQL contains " + command + ". ");
                }
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof SQLException sql) {
                    lastError = sql;
                }
                throw e.getCause();
            } finally {
                if (name.startsWith("execute")) {
                    noteState();
                }
            }
            return guard(result, method.getReturnType());
        }

        private boolean isSql(String name) {
            return name.startsWith("execute") || name.startsWith("prepare") || name.equals("addBatch")
                    || name.equals("nativeSQL");
        }

        private Object guard(Object result, Class<?> declared) {
            if (result == null || declared == Object.class || !declared.isInterface()) {
                return result;
            }
            for (Class<?> type : GUARDED) {
                if (declared.isAssignableFrom(type) && type.isInstance(result)) {
                    return result == raw ? connection : proxy(result, type);
                }
            }
            return result;
        }
    }

    /** After a statement: did the transaction end under it? (Only an unguarded path could do that.) */
    private void noteState() {
        try {
            if (probe != null && probe.read() == TransactionState.IDLE) {
                ended = true;
            }
        } catch (SQLException closed) {
            // the connection is gone; the claim's own statements will say so
        }
    }

    private void check(String method) throws SQLException {
        if (over) {
            throw new SQLException("The handler's task is over: its connection and everything got from it may not be "
                    + "used after the handler returned (called " + method + ").", "08003");
        }
    }

    private SQLException refuse(String what, String why) {
        refused = what;
        return new SQLException(why + "It may not end the transaction. " + TELL, "25000");
    }
}
