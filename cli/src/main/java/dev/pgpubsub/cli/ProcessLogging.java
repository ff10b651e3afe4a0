package dev.pgpubsub.cli;

import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The standalone process's logging, beyond its {@code logback.xml}: what the drivers log through
 * {@code java.util.logging} (pgjdbc-ng does) goes through SLF4J too, so that every line of the
 * process has one format and one destination (stderr).
 */
final class ProcessLogging {

    private ProcessLogging() {
    }

    /** Routes {@code java.util.logging} to SLF4J; idempotent. */
    static void install() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
    }
}
