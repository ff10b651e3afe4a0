package dev.pgpubsub.core.internal;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.sql.SQLException;
import javax.net.ssl.SSLException;

/**
 * What a failure to reach the database means, read from the SQLSTATE anywhere in its causes: one
 * that passes on its own (the server is down, starting, stopping or full), or one that only a change
 * of settings mends (a wrong password, a database that does not exist).
 */
public final class SqlStates {

    private SqlStates() {
    }

    /**
     * Whether {@code e} is worth trying again: a connection exception (class 08), the server starting
     * up or shutting down (57P01, 57P02, 57P03), or too many connections (53300); not an unknown host,
     * a TLS failure (a certificate that does not verify, a server without TLS) or a rejected connection
     * (08004), which only a change of settings mends.
     *
     * @param e the failure
     * @return true when it may pass on its own
     */
    public static boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // Reported as connection exceptions (08001, 08006) but mended only by a change of settings.
            if (t instanceof UnknownHostException || t instanceof SSLException || t instanceof CertificateException
                    || t instanceof GeneralSecurityException) {
                return false;
            }
        }
        String state = state(e);
        if ("08004".equals(state)) {
            return false; // the server rejected the connection: no TLS where it was asked for, no password given
        }
        if (state != null) {
            return state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")
                    || state.equals("53300");
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException || t instanceof NoRouteToHostException || t instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the server refused the login: a wrong password or user (class 28).
     *
     * @param e the failure
     * @return true for an authentication failure
     */
    public static boolean isAuthenticationFailure(Throwable e) {
        String state = state(e);
        return state != null && state.startsWith("28");
    }

    /**
     * Whether the database named in the URL does not exist (3D000).
     *
     * @param e the failure
     * @return true for an unknown database
     */
    public static boolean isUnknownDatabase(Throwable e) {
        return "3D000".equals(state(e));
    }

    /**
     * The first SQLSTATE in {@code e} and its causes.
     *
     * @param e the failure
     * @return the SQLSTATE, or null when none is given
     */
    public static String state(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null && !sql.getSQLState().isBlank()) {
                return sql.getSQLState();
            }
        }
        return null;
    }
}
