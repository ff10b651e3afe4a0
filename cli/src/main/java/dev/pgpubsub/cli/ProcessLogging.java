package dev.pgpubsub.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import java.util.Iterator;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The standalone process's logging, beyond its {@code logback.xml}: what the drivers log through
 * {@code java.util.logging} (pgjdbc-ng does) goes through SLF4J too, so that every line of the
 * process has one format and one destination (stderr); and {@code --log-format json} turns those
 * lines into JSON objects ({@link JsonLineEncoder}).
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

    /**
     * Puts the process's log lines in {@code format}. For text, the configuration stays as it is (the
     * process's {@code logback.xml}, or one given with {@code -Dlogback.configurationFile}). For JSON,
     * every appender of the root logger that writes to a stream (the console's, a file's) encodes its
     * events with {@link JsonLineEncoder} from now on; levels and destinations stay. Idempotent.
     */
    static void use(LoggingOptions.Format format) {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (format != LoggingOptions.Format.json || !(factory instanceof LoggerContext context)) {
            return;
        }
        for (Iterator<Appender<ILoggingEvent>> it = context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
                it.hasNext();) {
            if (it.next() instanceof OutputStreamAppender<ILoggingEvent> appender
                    && !(appender.getEncoder() instanceof JsonLineEncoder)) {
                JsonLineEncoder encoder = new JsonLineEncoder();
                encoder.setContext(context);
                encoder.start();
                // Restarted with the new encoder: a console appender's stream outlives the stop.
                appender.stop();
                appender.setEncoder(encoder);
                appender.start();
            }
        }
    }
}
