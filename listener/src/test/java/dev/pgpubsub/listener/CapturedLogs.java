package dev.pgpubsub.listener;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/** Keeps every event with the MDC of the thread that logged it (read later, it would be the reader's). */
final class CapturedLogs extends AppenderBase<ILoggingEvent> {
    private final List<ILoggingEvent> events = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        synchronized (events) {
            events.add(event);
        }
    }

    List<ILoggingEvent> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    List<ILoggingEvent> matching(String text) {
        return events().stream().filter(e -> e.getFormattedMessage().contains(text)).toList();
    }
}
