package dev.pgpubsub.spring;

import dev.pgpubsub.core.PgPubSub;
import javax.sql.DataSource;
import org.springframework.beans.factory.InitializingBean;

/**
 * Creates or upgrades the pgpubsub schema when the context starts, before the publisher and the
 * listener are created. pgpubsub's Flyway keeps its own history table inside its schema and reads its
 * migrations from its own classpath location: the application's Flyway history is not touched.
 */
final class SchemaMigration implements InitializingBean {

    private final DataSource dataSource;
    private final String schema;
    private int applied = -1;

    SchemaMigration(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.schema = schema;
    }

    @Override
    public void afterPropertiesSet() {
        applied = PgPubSub.migrate(dataSource, schema);
    }

    /** How many migrations ran at start-up (0 when the schema was up to date). */
    int applied() {
        return applied;
    }
}
