package dev.pgpubsub.examples;

import dev.pgpubsub.core.PgPubSub;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo: installs pgpubsub into a database and publishes a few orders from plain SQL, in one
 * transaction. It starts an embedded Postgres unless a {@code jdbc:postgresql:} URL is given as the
 * first argument.
 */
public final class Demo {

    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    private Demo() {
    }

    /** Runs the demo; the optional argument is a {@code jdbc:postgresql:} URL with user and password. */
    public static void main(String[] args) throws Exception {
        if (args.length > 0) {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(args[0]);
            run(ds);
            return;
        }
        try (EmbeddedPostgres pg = startEmbedded()) {
            LOG.info("Started an embedded Postgres on port {}", pg.getPort());
            run(pg.getPostgresDatabase());
        }
    }

    static void run(DataSource ds) throws SQLException {
        int applied = PgPubSub.migrate(ds);
        LOG.info("Schema 'pgpubsub' installed ({} migration(s) applied)", applied);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement publish = c.prepareStatement(
                    "SELECT pgpubsub.publish('orders', jsonb_build_object('order_id', ?, 'amount', ?))")) {
                for (int order = 1; order <= 3; order++) {
                    publish.setInt(1, order);
                    publish.setBigDecimal(2, new java.math.BigDecimal(order * 10 + ".50"));
                    publish.executeQuery().close();
                }
            }
            c.commit();
            try (ResultSet rs = c.createStatement().executeQuery(
                    "SELECT id, channel, payload FROM pgpubsub.notification ORDER BY run_at, id")) {
                while (rs.next()) {
                    LOG.info("pending task {} on '{}': {}", rs.getLong(1), rs.getString(2), rs.getString(3));
                }
            }
            c.commit();
        }
    }

    private static EmbeddedPostgres startEmbedded() throws IOException {
        return EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start();
    }
}
