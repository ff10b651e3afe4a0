package dev.pgpubsub.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains that the listener found no JDBC URL for its LISTEN connection. */
class MissingListenerJdbcUrlFailureAnalyzer extends AbstractFailureAnalyzer<MissingListenerJdbcUrlException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, MissingListenerJdbcUrlException e) {
        return new FailureAnalysis("The pgpubsub listener has no JDBC URL for its LISTEN connection: "
                + "pgpubsub.listener.jdbc-url is not set, spring.datasource.url is not set either, and the "
                + "application's DataSource (a " + e.dataSourceType() + ") is not a HikariDataSource whose jdbcUrl "
                + "could be used.",
                "Set pgpubsub.listener.jdbc-url to the database's URL (e.g. jdbc:postgresql://localhost:5432/shop), "
                        + "with pgpubsub.listener.username and pgpubsub.listener.password. Or set "
                        + "pgpubsub.listener.poll-only=true to poll without a LISTEN connection, or "
                        + "pgpubsub.listener.enabled=false on a node that only publishes.", e);
    }
}
