package dev.pgpubsub.spring;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * Where the LISTEN connection goes: {@code pgpubsub.listener.jdbc-url}, else
 * {@code spring.datasource.url}, else the jdbcUrl of the application's HikariDataSource. The user
 * and password come from {@code pgpubsub.listener.username}/{@code password}, else from the same
 * place as the URL. A standard {@code jdbc:postgresql:} URL is converted by the listener itself
 * (TLS settings included).
 *
 * @param url      the JDBC URL
 * @param user     the user, or null for the URL's
 * @param password the password, or null for the URL's (or none)
 * @param source   where the URL came from, for messages
 */
record ListenAddress(String url, String user, String password, String source) {

    /** The address, or null when there is none. */
    static ListenAddress resolve(PgPubSubProperties.ListenerSettings settings, Environment env, DataSource dataSource) {
        HikariDataSource hikari = hikari(dataSource);
        String springUrl = env.getProperty("spring.datasource.url");
        if (StringUtils.hasText(settings.getJdbcUrl())) {
            String user = firstText(env.getProperty("spring.datasource.username"), hikari == null ? null : hikari.getUsername());
            String password = firstText(env.getProperty("spring.datasource.password"), hikari == null ? null : hikari.getPassword());
            return of(settings, settings.getJdbcUrl(), user, password, "pgpubsub.listener.jdbc-url");
        }
        if (StringUtils.hasText(springUrl)) {
            return of(settings, springUrl, env.getProperty("spring.datasource.username"),
                    env.getProperty("spring.datasource.password"), "spring.datasource.url");
        }
        if (hikari != null && StringUtils.hasText(hikari.getJdbcUrl())) {
            return of(settings, hikari.getJdbcUrl(), hikari.getUsername(), hikari.getPassword(),
                    "the jdbcUrl of the HikariDataSource");
        }
        return null;
    }

    private static ListenAddress of(PgPubSubProperties.ListenerSettings settings, String url, String user, String password,
            String source) {
        return new ListenAddress(url.trim(), firstText(settings.getUsername(), user),
                firstText(settings.getPassword(), password), source);
    }

    private static String firstText(String first, String second) {
        return StringUtils.hasText(first) ? first : StringUtils.hasText(second) ? second : null;
    }

    private static HikariDataSource hikari(DataSource dataSource) {
        if (dataSource instanceof HikariDataSource h) {
            return h;
        }
        try {
            return dataSource.isWrapperFor(HikariDataSource.class) ? dataSource.unwrap(HikariDataSource.class) : null;
        } catch (SQLException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        // Neither the URL (it may carry a password) nor the password.
        return "ListenAddress[from " + source + ", user " + user + "]";
    }
}
