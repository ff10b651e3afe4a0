package dev.pgpubsub.examples.spring;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Gives an application without {@code spring.datasource.url} an embedded Postgres: it starts one
 * and sets {@code spring.datasource.url}, {@code .username} and {@code .password} to it, so that
 * Spring Boot's own DataSource, Hibernate and the pgpubsub starter use it like any other database.
 * The server stops when the context closes, after every bean that uses it. With
 * {@code spring.datasource.url} set (in {@code application.properties}, as
 * {@code -Dspring.datasource.url=...}, {@code --spring.datasource.url=...} or
 * {@code SPRING_DATASOURCE_URL}), it does nothing.
 */
public class EmbeddedPostgresInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    /** The property that says which database to use. */
    static final String URL = "spring.datasource.url";

    /** Created by the application's main method. */
    public EmbeddedPostgresInitializer() {
    }

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment environment = context.getEnvironment();
        if (environment.containsProperty(URL)) {
            return;
        }
        EmbeddedPostgres postgres;
        try {
            postgres = EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start an embedded Postgres (set " + URL
                    + " to use a database of yours)", e);
        }
        System.out.println("Started an embedded Postgres on port " + postgres.getPort());
        environment.getPropertySources().addFirst(new MapPropertySource("embeddedPostgres", Map.of(
                URL, postgres.getJdbcUrl("postgres", "postgres"),
                "spring.datasource.username", "postgres",
                "spring.datasource.password", "postgres")));
        // Registered before any bean, so destroyed after all of them: the listener and the pool
        // are closed by then.
        ((DefaultListableBeanFactory) context.getBeanFactory()).registerDisposableBean("embeddedPostgres",
                postgres::close);
    }
}
