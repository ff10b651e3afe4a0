package dev.pgpubsub.listener.internal.guard;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TransactionControlTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "COMMIT|COMMIT",
        "commit;|COMMIT",
        "  END  |END",
        "abort|ABORT",
        "BEGIN|BEGIN",
        "begin transaction isolation level serializable|BEGIN",
        "START TRANSACTION|START TRANSACTION",
        "rollback|ROLLBACK",
        "ROLLBACK AND CHAIN|ROLLBACK",
        "commit and chain|COMMIT",
        "PREPARE TRANSACTION 'x'|PREPARE TRANSACTION",
        "COMMIT PREPARED 'x'|COMMIT",
        "ROLLBACK PREPARED 'x'|ROLLBACK",
        "-- a comment\\n COMMIT|COMMIT",
        "/* a /* nested */ comment */ commit|COMMIT",
        "SELECT 1; COMMIT; SELECT 2|COMMIT",
        "INSERT INTO t VALUES ('a;b'); end|END",
        "SELECT $$ ; $$; ROLLBACK|ROLLBACK",
        "(COMMIT)|COMMIT",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE|SET SESSION CHARACTERISTICS",
        "set default_transaction_isolation = 'serializable'|SET DEFAULT_TRANSACTION_ISOLATION",
        "SET SESSION default_transaction_read_only TO on|SET DEFAULT_TRANSACTION_READ_ONLY",
        "ROLLBACK TO SAVEPOINT pgpubsub_handlers|ROLLBACK TO SAVEPOINT pgpubsub_handlers",
        "rollback work to PGPUBSUB_HANDLERS|ROLLBACK TO SAVEPOINT pgpubsub_handlers",
        "ROLLBACK TO \"pgpubsub_handlers\"|ROLLBACK TO SAVEPOINT pgpubsub_handlers",
        "RELEASE SAVEPOINT pgpubsub_handlers|RELEASE SAVEPOINT pgpubsub_handlers",
        "SAVEPOINT s1; release pgpubsub_handlers|RELEASE SAVEPOINT pgpubsub_handlers",
        "rollback work|ROLLBACK",
    })
    void findsTheCommandThatWouldEndTheTransaction(String sql, String command) {
        assertThat(TransactionControl.find(sql.replace("\\n", "\n"))).isEqualTo(command);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT 'commit'",
        "SELECT \"commit\" FROM t",
        "ROLLBACK TO SAVEPOINT s1",
        "rollback to s1",
        "SAVEPOINT s1; RELEASE s1",
        "ROLLBACK WORK TO SAVEPOINT s1",
        "RELEASE SAVEPOINT pgpubsub_handlers_of_mine",
        "ROLLBACK TO \"PGPUBSUB_HANDLERS\"",
        "PREPARE q AS SELECT 1",
        "SELECT 1 -- commit",
        "SELECT 1 /* ; commit */",
        "DO $$ BEGIN PERFORM 1; END $$",
        "DO $body$ BEGIN COMMIT; END $body$",
        "SELECT E'it\\'s; commit'",
        "SELECT $1, $2 FROM t",
        "UPDATE t SET ended = true WHERE commit_id = 1",
        "SET LOCAL statement_timeout = '1s'",
        "SET search_path TO app",
        "",
    })
    void letsEverythingElseThrough(String sql) {
        assertThat(TransactionControl.find(sql)).isNull();
    }
}
