package dev.pgpubsub.listener.internal.dispatch;

import dev.pgpubsub.listener.Handler;
import java.lang.reflect.Type;

/**
 * A channel's handler, its payload type and where it came from (for messages).
 *
 * @param channel     the channel name
 * @param payloadType the record its payloads map to (a {@code RowChange<T>} for trigger channels)
 * @param handler     what runs a task
 * @param origin      e.g. {@code com.acme.OrderHandlers.onOrder(OrderPlaced)}, or "on(orders, ...)"
 */
public record RegisteredHandler(String channel, Type payloadType, Handler<Record> handler, String origin) {
}
