package dev.pgpubsub.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class SqlStatesTest {

    @Test
    void whatPassesOnItsOwnIsTransient() {
        assertThat(SqlStates.isTransient(new SQLException("refused", "08001", new ConnectException("refused")))).isTrue();
        assertThat(SqlStates.isTransient(new SQLException("the database system is starting up", "57P03"))).isTrue();
        assertThat(SqlStates.isTransient(new SQLException("sorry, too many clients already", "53300"))).isTrue();
        assertThat(SqlStates.isTransient(new RuntimeException("pool", new SQLException("terminated", "57P01")))).isTrue();
        assertThat(SqlStates.isTransient(new ConnectException("Connection refused"))).isTrue();
    }

    @Test
    void whatOnlyAChangeOfSettingsMendsIsNot() {
        assertThat(SqlStates.isTransient(new SQLException("password authentication failed", "28P01"))).isFalse();
        assertThat(SqlStates.isTransient(new SQLException("database \"x\" does not exist", "3D000"))).isFalse();
        assertThat(SqlStates.isTransient(new SQLException("The server does not support SSL.", "08004"))).isFalse();
        // The driver reports these as connection exceptions too.
        assertThat(SqlStates.isTransient(new SQLException("attempt failed", "08001", new UnknownHostException("db.example"))))
                .isFalse();
        assertThat(SqlStates.isTransient(new SQLException("SSL error", "08006", new SSLHandshakeException("PKIX path")))).isFalse();
        assertThat(SqlStates.isTransient(new IllegalStateException("a bug"))).isFalse();
    }

    @Test
    void theFirstSqlStateOfTheCausesIsRead() {
        SQLException cause = new SQLException("no login", "28000");
        assertThat(SqlStates.state(new RuntimeException(new RuntimeException(cause)))).isEqualTo("28000");
        assertThat(SqlStates.isAuthenticationFailure(cause)).isTrue();
        assertThat(SqlStates.isUnknownDatabase(new SQLException("x", "3D000"))).isTrue();
        assertThat(SqlStates.state(new RuntimeException("none"))).isNull();
    }
}
