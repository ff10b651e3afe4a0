package com.example;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.spring.TransactionalPublisher;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A Spring Boot application: a handler bean writes through JdbcTemplate (in the claim transaction),
 * a task is published in a Spring transaction, and the versions it ran on are printed.
 */
@SpringBootApplication
public class Shop {

    public record Greeting(String name) {
    }

    static final Channel<Greeting> GREETINGS = Channel.of("greetings", Greeting.class);
    static final CountDownLatch HANDLED = new CountDownLatch(1);

    @Component
    public static class Greeter {
        private final JdbcTemplate jdbc;

        public Greeter(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Listen("greetings")
        public void greet(Greeting greeting) {
            jdbc.update("INSERT INTO greeted (name) VALUES (?)", greeting.name());
            // Counted once the claim transaction (a Spring transaction) has committed.
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    HANDLED.countDown();
                }
            });
        }
    }

    public static void main(String[] args) throws Exception {
        try (ConfigurableApplicationContext context = SpringApplication.run(Shop.class, args)) {
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            jdbc.execute("CREATE TABLE IF NOT EXISTS greeted (name text)");
            TransactionalPublisher publisher = context.getBean(TransactionalPublisher.class);
            context.getBean(TransactionTemplate.class).executeWithoutResult(
                    status -> publisher.publish(GREETINGS, new Greeting("spring")));
            if (!HANDLED.await(60, TimeUnit.SECONDS)) {
                System.out.println("CONSUMER nothing handled within 60 s");
                System.exit(1);
            }
            System.out.println("CONSUMER handled " + jdbc.queryForObject("SELECT string_agg(name, ',') FROM greeted",
                    String.class));
            System.out.println("CONSUMER jackson " + tools.jackson.databind.cfg.PackageVersion.VERSION);
            // Netty comes at run time only, under the LISTEN connection's driver.
            java.util.Properties netty = new java.util.Properties();
            try (var in = Shop.class.getClassLoader().getResourceAsStream("META-INF/maven/io.netty/netty-common/pom.properties")) {
                netty.load(in);
            }
            System.out.println("CONSUMER netty " + netty.getProperty("version"));
        }
    }
}
