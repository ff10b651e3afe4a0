package com.example;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.table;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.JooqPublisher;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.JooqTasks;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.TaskContext;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.postgresql.ds.PGSimpleDataSource;

/** Publishes one task in a jOOQ transaction, handles it through jOOQ, and says so. */
public final class Shop {

    public record Greeting(String name) {
    }

    static final Channel<Greeting> GREETINGS = Channel.of("greetings", Greeting.class);
    static final Publisher PUBLISHER = Publisher.create();

    public static final class Handlers {
        @Listen("greetings")
        public void greet(Greeting greeting, TaskContext context) {
            JooqTasks.dsl(context).insertInto(table("greeted")).set(field("name"), greeting.name()).execute();
        }
    }

    public static void main(String[] args) throws Exception {
        String url = System.getProperty("consumer.url");
        String user = System.getProperty("consumer.user");
        String password = System.getProperty("consumer.password", "");
        System.out.println("CONSUMER jooq " + org.jooq.Constants.VERSION);
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(url);
        dataSource.setUser(user);
        dataSource.setPassword(password);
        PgPubSub.migrate(dataSource);
        DSLContext dsl = DSL.using(dataSource, SQLDialect.POSTGRES);
        dsl.execute("CREATE TABLE IF NOT EXISTS greeted (name text)");
        try (Listener listener = Listener.builder().jdbcUrl(url).user(user).password(password)
                .handlers(new Handlers()).start()) {
            dsl.transaction(cfg -> JooqPublisher.in(PUBLISHER, cfg.dsl()).publish(GREETINGS, new Greeting("jooq")));
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < deadline) {
                Object names = dsl.fetchValue("SELECT string_agg(name, ',') FROM greeted");
                if (names != null) {
                    System.out.println("CONSUMER handled " + names);
                    return;
                }
                Thread.sleep(50); // polling the outcome from outside the library under test
            }
        }
        System.out.println("CONSUMER nothing handled within 60 s");
        System.exit(1);
    }
}
