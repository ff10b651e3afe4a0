package dev.pgpubsub.listener.internal.notifier;

import com.impossibl.postgres.api.jdbc.PGConnection;
import com.impossibl.postgres.api.jdbc.PGNotificationListener;
import dev.pgpubsub.core.internal.Names;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LISTEN connection: one dedicated pgjdbc-ng connection, never from a pool and never in a
 * transaction. pgjdbc-ng calls back on its Netty I/O thread, which must never block (a query from
 * there hangs or deadlocks), so the callback only hands the channel to {@code onWake}, which must
 * return at once.
 */
public final class Notifier implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);

    private final Connection connection;

    private Notifier(Connection connection) {
        this.connection = connection;
    }

    /**
     * Opens the connection with {@code opener}, registers the callback and LISTENs to every wake-up
     * name in {@code channelsByWakeup} (wake-up name to channel name).
     *
     * @param onWake   called with a channel name on the I/O thread; must not block
     * @param onClosed called once if the connection closes under us
     */
    public static Notifier listen(ConnectionOpener opener, Map<String, String> channelsByWakeup,
            Consumer<String> onWake, Runnable onClosed) throws SQLException {
        Connection c = opener.open();
        try {
            PGConnection pg = c.unwrap(PGConnection.class);
            Notifier notifier = new Notifier(c);
            pg.addNotificationListener(new PGNotificationListener() {
                @Override
                public void notification(int processId, String wakeup, String payload) {
                    String channel = channelsByWakeup.get(wakeup);
                    if (channel != null) {
                        onWake.accept(channel);
                    }
                }

                @Override
                public void closed() {
                    onClosed.run();
                }
            });
            try (Statement s = c.createStatement()) {
                for (String wakeup : channelsByWakeup.keySet()) {
                    s.execute("LISTEN " + Names.quoteIdentifier(wakeup));
                }
            }
            LOG.debug("LISTENing to {}", channelsByWakeup.keySet());
            return notifier;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * A round trip on the LISTEN connection (never call it from the notification callback): false
     * if the connection does not answer within {@code timeoutSeconds}, e.g. because it is half-open.
     */
    public boolean ping(int timeoutSeconds) {
        try {
            return connection.isValid(timeoutSeconds);
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("Closing the LISTEN connection failed", e);
        }
    }

    /** Opens the dedicated LISTEN connection. */
    @FunctionalInterface
    public interface ConnectionOpener {
        /** A new pgjdbc-ng connection in autocommit mode. */
        Connection open() throws SQLException;
    }
}
