package dev.pgpubsub.spring;

/**
 * The listener needs a JDBC URL for its LISTEN connection and none was found: no
 * {@code pgpubsub.listener.jdbc-url}, no {@code spring.datasource.url}, and a DataSource that is not
 * a HikariDataSource with a jdbcUrl.
 */
public class MissingListenerJdbcUrlException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The class name of the application's DataSource. */
    private final String dataSourceType;

    /**
     * An exception naming the application's DataSource.
     *
     * @param dataSourceType the class name of the application's DataSource
     */
    public MissingListenerJdbcUrlException(String dataSourceType) {
        super("The pgpubsub listener has no JDBC URL for its LISTEN connection: set pgpubsub.listener.jdbc-url "
                + "(neither it nor spring.datasource.url is set, and the DataSource, a " + dataSourceType
                + ", is not a HikariDataSource with a jdbcUrl)");
        this.dataSourceType = dataSourceType;
    }

    /**
     * The class name of the application's DataSource, whose URL could not be read.
     *
     * @return the class name
     */
    public String dataSourceType() {
        return dataSourceType;
    }
}
