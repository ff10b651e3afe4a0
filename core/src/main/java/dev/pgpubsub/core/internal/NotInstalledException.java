package dev.pgpubsub.core.internal;

import dev.pgpubsub.core.PgPubSubException;

/**
 * pgpubsub is not installed in the schema a listener or command was pointed at. Its message speaks
 * to code; the standalone process says the same in its own terms ({@link Names.Audience#CLI}).
 */
public final class NotInstalledException extends PgPubSubException {

    private static final long serialVersionUID = 1L;

    /** The schema that has no pgpubsub. */
    private final String schema;

    /**
     * An error for {@code schema}.
     *
     * @param schema the schema that has no pgpubsub
     */
    public NotInstalledException(String schema) {
        super(Names.notInstalled(schema, Names.Audience.LIBRARY));
        this.schema = schema;
    }

    /** The schema that has no pgpubsub. */
    public String schema() {
        return schema;
    }
}
