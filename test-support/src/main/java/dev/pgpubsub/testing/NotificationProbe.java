package dev.pgpubsub.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A connection that LISTENs on channels and counts what arrives, without sleeping.
 *
 * <p>To prove that exactly N notifications came from a transaction, commit it, then call
 * {@link #receivedBeforeSentinel(Duration)}: it sends a sentinel NOTIFY from another connection and
 * returns everything that arrived before it. Postgres delivers notifications in commit order, so
 * when the sentinel arrives, every earlier commit's notifications have arrived too.
 */
public final class NotificationProbe implements AutoCloseable {

    private static final String SENTINEL = "pgpubsub_test_sentinel";

    private final TestDatabase db;
    private final Connection connection;

    private NotificationProbe(TestDatabase db, Connection connection) {
        this.db = db;
        this.connection = connection;
    }

    /**
     * Opens a connection to {@code db} that LISTENs on the given channels (names used verbatim).
     *
     * @param db       the database to listen on
     * @param channels the Postgres channel names to LISTEN on
     * @return a probe that owns the listening connection; close it to stop listening
     * @throws SQLException when the database cannot be reached or a LISTEN fails
     */
    public static NotificationProbe listen(TestDatabase db, String... channels) throws SQLException {
        Connection c = db.connect();
        try (Statement s = c.createStatement()) {
            for (String channel : channels) {
                s.execute("LISTEN " + quote(channel));
            }
            s.execute("LISTEN " + quote(SENTINEL));
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new NotificationProbe(db, c);
    }

    /**
     * Channel names of the notifications that arrived before a sentinel sent now, in order.
     *
     * @param timeout how long to wait for the sentinel
     * @return the channel name of each notification received before the sentinel, one entry per
     *         notification
     * @throws SQLException when the database cannot be reached to send the sentinel or to read notifications
     * @throws AssertionError when the sentinel does not arrive within {@code timeout}
     */
    public List<String> receivedBeforeSentinel(Duration timeout) throws SQLException {
        try (Connection sender = db.connect(); Statement s = sender.createStatement()) {
            s.execute("NOTIFY " + quote(SENTINEL));
        }
        List<String> received = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        PGConnection pg = connection.unwrap(PGConnection.class);
        while (true) {
            long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
            if (leftMillis <= 0) {
                throw new AssertionError("The sentinel notification did not arrive within " + timeout
                        + "; received before the deadline: " + received);
            }
            PGNotification[] batch = pg.getNotifications((int) Math.min(Integer.MAX_VALUE, leftMillis));
            for (PGNotification n : batch == null ? new PGNotification[0] : batch) {
                if (n.getName().equals(SENTINEL)) {
                    return received;
                }
                received.add(n.getName());
            }
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
