package dev.pgpubsub.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The order shop as a Spring Boot application: {@link OrderService} saves each order through Spring
 * Data JPA and publishes its task in the same transaction, {@link InvoiceHandler} writes the
 * order's invoice through JPA in the transaction that claims the task, and {@link ShopRun} places
 * the orders, checks that each got exactly one invoice and sets the exit code.
 *
 * <p>Without {@code spring.datasource.url}, it runs on an embedded Postgres of its own
 * ({@link EmbeddedPostgresInitializer}).
 */
@SpringBootApplication
public class ShopApplication {

    /** Created by Spring. */
    public ShopApplication() {
    }

    /**
     * Runs the shop and exits with its exit code: 0 when every order got exactly one invoice.
     *
     * @param args Spring Boot arguments, e.g. {@code --shop.orders=1000} or {@code --spring.datasource.url=...}
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the shop, closes it and returns its exit code.
     *
     * @param args Spring Boot arguments
     * @return 0 when every order got exactly one invoice
     */
    public static int run(String... args) {
        SpringApplication application = new SpringApplication(ShopApplication.class);
        application.addInitializers(new EmbeddedPostgresInitializer());
        return SpringApplication.exit(application.run(args));
    }
}
