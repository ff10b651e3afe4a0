package com.example;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.TaskContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.ds.PGSimpleDataSource;

/** Publishes one task in its own transaction, handles it with an annotated handler, and says so. */
public final class Shop {

    public record Greeting(String name) {
    }

    static final Channel<Greeting> GREETINGS = Channel.of("greetings", Greeting.class);

    public static final class Handlers {
        @Listen("greetings")
        public void greet(Greeting greeting, TaskContext context) throws SQLException {
            try (PreparedStatement insert = context.connection().prepareStatement("INSERT INTO greeted (name) VALUES (?)")) {
                insert.setString(1, greeting.name());
                insert.executeUpdate();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String url = System.getProperty("consumer.url");
        String user = System.getProperty("consumer.user");
        String password = System.getProperty("consumer.password", "");
        try {
            Class.forName("org.jooq.DSLContext");
            System.out.println("CONSUMER jooq present");
        } catch (ClassNotFoundException e) {
            System.out.println("CONSUMER jooq absent");
        }
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(url);
        dataSource.setUser(user);
        dataSource.setPassword(password);
        PgPubSub.migrate(dataSource);
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS greeted (name text)");
        }
        try (Listener listener = Listener.builder().jdbcUrl(url).user(user).password(password)
                .handlers(new Handlers()).start()) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                Publisher.create().in(c).publish(GREETINGS, new Greeting("plain"));
                c.commit();
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline) {
                try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT string_agg(name, ',') FROM greeted")) {
                    rs.next();
                    if (rs.getString(1) != null) {
                        System.out.println("CONSUMER handled " + rs.getString(1));
                        return;
                    }
                }
                Thread.sleep(50); // polling the outcome from outside the library under test
            }
        }
        System.out.println("CONSUMER nothing handled within 60 s");
        System.exit(1);
    }
}
