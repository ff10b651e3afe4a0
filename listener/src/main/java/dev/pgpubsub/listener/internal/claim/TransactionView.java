package dev.pgpubsub.listener.internal.claim;

import java.sql.Connection;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

/** The guarded connection of one claim transaction and, made on first use, its jOOQ view. */
final class TransactionView {

    private static final Settings JOOQ_SETTINGS = new Settings().withExecuteLogging(false);

    private final Connection guarded;
    private DSLContext dsl;

    TransactionView(Connection raw) {
        this.guarded = GuardedConnection.wrap(raw);
    }

    Connection connection() {
        return guarded;
    }

    DSLContext dsl() {
        if (dsl == null) {
            dsl = DSL.using(guarded, SQLDialect.POSTGRES, JOOQ_SETTINGS);
        }
        return dsl;
    }
}
