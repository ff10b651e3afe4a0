package dev.pgpubsub.core;

import dev.pgpubsub.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** The two Postgres JDBC drivers the library must work with. */
enum Drivers {
    STANDARD {
        @Override
        Connection connect(TestDatabase db) throws SQLException {
            return db.connect();
        }
    },
    PGJDBC_NG {
        @Override
        Connection connect(TestDatabase db) throws SQLException {
            Properties props = new Properties();
            props.setProperty("user", db.user());
            if (!db.password().isEmpty()) {
                props.setProperty("password", db.password());
            }
            return DriverManager.getConnection(db.pgjdbcNgUrl(), props);
        }
    };

    abstract Connection connect(TestDatabase db) throws SQLException;

    /** A connection with a transaction open (autocommit off). */
    Connection begin(TestDatabase db) throws SQLException {
        Connection c = connect(db);
        c.setAutoCommit(false);
        return c;
    }
}
