package dev.pgpubsub.listener.internal.dispatch;

import dev.pgpubsub.listener.Handler;
import java.lang.reflect.Type;
import java.time.Duration;

/**
 * A channel's handler, its payload type and where it came from (for messages).
 *
 * @param channel     the channel name
 * @param payloadType the record its payloads map to (a {@code RowChange<T>} for trigger channels)
 * @param handler     what runs a task
 * @param origin      e.g. {@code com.acme.OrderHandlers.onOrder(OrderPlaced)}, or "on(orders, ...)"
 * @param maxAttempts attempts its annotation asks for, or 0 for the listener's setting
 * @param timeout     the handler timeout its annotation asks for, or null for the listener's setting
 */
public record RegisteredHandler(String channel, Type payloadType, Handler<Record> handler, String origin, int maxAttempts,
        Duration timeout) {

    /** A handler that leaves its retries and timeout to the listener's settings. */
    public RegisteredHandler(String channel, Type payloadType, Handler<Record> handler, String origin) {
        this(channel, payloadType, handler, origin, 0, null);
    }
}
