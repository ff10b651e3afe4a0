package dev.pgpubsub.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.LoggerContextVO;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;

/**
 * The process's JSON log lines ({@code --log-format json}): Logback's own {@link JsonEncoder}, one
 * object per line, with {@code timestamp} (milliseconds since the epoch), {@code level},
 * {@code threadName}, {@code loggerName}, {@code mdc}, {@code formattedMessage} and {@code throwable}
 * (null without one); not the message's pattern and arguments apart, nor the logger context. As in the
 * text format ({@link StackAtDebugConverter}), a WARN (or lower) keeps its exception's classes and
 * messages, causes included, but its stack frames only when its logger is at DEBUG; an ERROR keeps
 * them.
 */
final class JsonLineEncoder extends JsonEncoder {

    private static final StackTraceElementProxy[] NO_FRAMES = new StackTraceElementProxy[0];

    JsonLineEncoder() {
        setWithSequenceNumber(false);
        setWithNanoseconds(false);
        setWithContext(false);
        setWithMessage(false);
        setWithArguments(false);
        setWithFormattedMessage(true);
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        if (event.getThrowableProxy() != null && !event.getLevel().isGreaterOrEqual(Level.ERROR)
                && !debugEnabled(event.getLoggerName())) {
            return super.encode(new WithoutFrames(event));
        }
        return super.encode(event);
    }

    private boolean debugEnabled(String loggerName) {
        return getContext() instanceof LoggerContext context && context.getLogger(loggerName).isDebugEnabled();
    }

    /** An exception without its stack frames, its causes and suppressed ones likewise. */
    private record FramelessThrowable(IThrowableProxy thrown) implements IThrowableProxy {

        static IThrowableProxy of(IThrowableProxy thrown) {
            return thrown == null ? null : new FramelessThrowable(thrown);
        }

        @Override
        public String getMessage() {
            return thrown.getMessage();
        }

        @Override
        public String getClassName() {
            return thrown.getClassName();
        }

        @Override
        public StackTraceElementProxy[] getStackTraceElementProxyArray() {
            return NO_FRAMES;
        }

        @Override
        public int getCommonFrames() {
            return 0;
        }

        @Override
        public IThrowableProxy getCause() {
            return of(thrown.getCause());
        }

        @Override
        public IThrowableProxy[] getSuppressed() {
            IThrowableProxy[] suppressed = thrown.getSuppressed();
            if (suppressed == null) {
                return null;
            }
            IThrowableProxy[] frameless = new IThrowableProxy[suppressed.length];
            for (int i = 0; i < suppressed.length; i++) {
                frameless[i] = of(suppressed[i]);
            }
            return frameless;
        }

        @Override
        public boolean isCyclic() {
            return thrown.isCyclic();
        }
    }

    /** The event as logged, but its exception without stack frames. */
    private record WithoutFrames(ILoggingEvent event) implements ILoggingEvent {

        @Override
        public String getThreadName() {
            return event.getThreadName();
        }

        @Override
        public Level getLevel() {
            return event.getLevel();
        }

        @Override
        public String getMessage() {
            return event.getMessage();
        }

        @Override
        public Object[] getArgumentArray() {
            return event.getArgumentArray();
        }

        @Override
        public String getFormattedMessage() {
            return event.getFormattedMessage();
        }

        @Override
        public String getLoggerName() {
            return event.getLoggerName();
        }

        @Override
        public LoggerContextVO getLoggerContextVO() {
            return event.getLoggerContextVO();
        }

        @Override
        public IThrowableProxy getThrowableProxy() {
            return FramelessThrowable.of(event.getThrowableProxy());
        }

        @Override
        public StackTraceElement[] getCallerData() {
            return event.getCallerData();
        }

        @Override
        public boolean hasCallerData() {
            return event.hasCallerData();
        }

        @Override
        public List<Marker> getMarkerList() {
            return event.getMarkerList();
        }

        @Override
        public Map<String, String> getMDCPropertyMap() {
            return event.getMDCPropertyMap();
        }

        @Override
        @SuppressWarnings("deprecation")
        public Map<String, String> getMdc() {
            return event.getMdc();
        }

        @Override
        public long getTimeStamp() {
            return event.getTimeStamp();
        }

        @Override
        public int getNanoseconds() {
            return event.getNanoseconds();
        }

        @Override
        public Instant getInstant() {
            return event.getInstant();
        }

        @Override
        public long getSequenceNumber() {
            return event.getSequenceNumber();
        }

        @Override
        public List<KeyValuePair> getKeyValuePairs() {
            return event.getKeyValuePairs();
        }

        @Override
        public void prepareForDeferredProcessing() {
            event.prepareForDeferredProcessing();
        }
    }
}
