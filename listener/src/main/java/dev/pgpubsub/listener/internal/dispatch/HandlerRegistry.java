package dev.pgpubsub.listener.internal.dispatch;

import dev.pgpubsub.core.internal.Names;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The channels a listener serves and their handlers, fixed before it starts. One handler per
 * channel: a task is deleted once, by the one transaction that ran its handler.
 */
public final class HandlerRegistry {

    private final Map<String, RegisteredHandler> byChannel = new LinkedHashMap<>();

    /** Adds a handler; a second handler for a channel is refused, naming both. */
    public void add(RegisteredHandler handler) {
        RegisteredHandler existing = byChannel.putIfAbsent(handler.channel(), handler);
        if (existing != null) {
            throw new IllegalArgumentException("Channel '" + handler.channel() + "' has two handlers: " + existing.origin()
                    + " and " + handler.origin() + ". A listener runs one handler per channel; to fan a task out, "
                    + "publish it to one channel per consumer.");
        }
    }

    /** Checks every channel name against the installation's schema. */
    public void validateFor(String schema) {
        for (RegisteredHandler h : byChannel.values()) {
            try {
                Names.requireChannel(h.channel(), schema);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Handler " + h.origin() + ": " + e.getMessage(), e);
            }
        }
    }

    /** A copy, so that a builder used again does not change a listener it built. */
    public HandlerRegistry copy() {
        HandlerRegistry copy = new HandlerRegistry();
        copy.byChannel.putAll(byChannel);
        return copy;
    }

    /** A registry of only the named channels; a name without a handler is refused, listing those there are. */
    public HandlerRegistry only(Collection<String> channels) {
        HandlerRegistry subset = new HandlerRegistry();
        for (String channel : channels) {
            RegisteredHandler handler = byChannel.get(channel);
            if (handler == null) {
                throw new IllegalArgumentException("Channel '" + channel + "' was asked for, but no handler serves it; "
                        + "the handlers serve " + byChannel.keySet() + ". Name one of those, or add its handler.");
            }
            subset.byChannel.put(channel, handler);
        }
        if (subset.isEmpty()) {
            throw new IllegalArgumentException("The list of channels to serve is empty; name at least one of " + byChannel.keySet());
        }
        return subset;
    }

    /** The handler of {@code channel}, or null. */
    public RegisteredHandler get(String channel) {
        return byChannel.get(channel);
    }

    /** All handlers, in registration order. */
    public Collection<RegisteredHandler> all() {
        return byChannel.values();
    }

    /** Whether nothing is registered. */
    public boolean isEmpty() {
        return byChannel.isEmpty();
    }
}
