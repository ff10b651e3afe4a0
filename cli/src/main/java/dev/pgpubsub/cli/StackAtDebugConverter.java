package dev.pgpubsub.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.CoreConstants;
import dev.pgpubsub.core.internal.Printable;

/**
 * The standalone process's {@code %stackAtDebug} conversion word: an ERROR keeps its stack trace, but
 * a WARN (or lower) with an exception is one line, the exception's class and message appended, and
 * its stack is printed only when its logger is at DEBUG. A broken connection is an expected event
 * in a long-running process: it is worth a line, not twenty (the connection pool logs each one with
 * its stack). Set {@code PGPUBSUB_LOG_LEVEL=DEBUG} to see every stack.
 */
public final class StackAtDebugConverter extends ThrowableProxyConverter {

    /** Created by logback from the process's {@code logback.xml}. */
    public StackAtDebugConverter() {
    }

    @Override
    public String convert(ILoggingEvent event) {
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown == null) {
            return "";
        }
        if (event.getLevel().isGreaterOrEqual(Level.ERROR) || debugEnabled(event.getLoggerName())) {
            String stack = super.convert(event);
            return CoreConstants.LINE_SEPARATOR + stack.stripTrailing();
        }
        return " (" + oneLine(thrown) + ")";
    }

    private boolean debugEnabled(String loggerName) {
        return getContext() instanceof LoggerContext context && context.getLogger(loggerName).isDebugEnabled();
    }

    /** The exception's class and first line, and its innermost cause's when that says something else. */
    private static String oneLine(IThrowableProxy thrown) {
        IThrowableProxy root = thrown;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = describe(thrown);
        if (root != thrown && root.getMessage() != null && (thrown.getMessage() == null
                || !thrown.getMessage().contains(root.getMessage().strip()))) {
            text += "; caused by " + describe(root);
        }
        return Printable.escape(text);
    }

    private static String describe(IThrowableProxy thrown) {
        String message = thrown.getMessage();
        String name = thrown.getClassName();
        String text = message == null ? name : name.substring(name.lastIndexOf('.') + 1) + ": " + message.strip();
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline).stripTrailing();
    }
}
