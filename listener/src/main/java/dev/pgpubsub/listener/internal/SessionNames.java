package dev.pgpubsub.listener.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code application_name} of the listener's sessions: the listener's name, the session's role,
 * and the process, e.g. {@code pgpubsub-1-worker 4242@app-7}, so that an operator can match each
 * row of {@code pg_stat_activity} to a process. Postgres keeps the first 63 bytes.
 */
public final class SessionNames {

    /** This process's id. */
    private static final long PID = ProcessHandle.current().pid();
    /** This host's name. */
    private static final String HOST = host();
    /** This process: {@code pid@host}. */
    private static final String PROCESS = PID + "@" + HOST;

    private SessionNames() {
    }

    /**
     * The name of a session.
     *
     * @param listener the listener's name, e.g. {@code pgpubsub-1}
     * @param role     what the session does: {@code worker} or {@code listen}
     * @return e.g. {@code pgpubsub-1-worker 4242@app-7}
     */
    public static String of(String listener, String role) {
        return listener + "-" + role + " " + PROCESS;
    }

    /**
     * This process's id, as the heartbeat row names it.
     *
     * @return the operating system's process id
     */
    public static long pid() {
        return PID;
    }

    /**
     * This host's name, as the heartbeat row names it.
     *
     * @return e.g. {@code app-7}; {@code unknown-host} when none is found
     */
    public static String hostName() {
        return HOST;
    }

    /** The host's name, without a network lookup (one can hang where name resolution is broken). */
    private static String host() {
        for (String variable : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                return value.trim();
            }
        }
        for (String file : new String[] {"/proc/sys/kernel/hostname", "/etc/hostname"}) {
            try {
                String value = Files.readString(Path.of(file)).trim();
                if (!value.isEmpty()) {
                    return value;
                }
            } catch (IOException | RuntimeException e) {
                // try the next
            }
        }
        return "unknown-host";
    }
}
