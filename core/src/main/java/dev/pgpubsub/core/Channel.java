package dev.pgpubsub.core;

import dev.pgpubsub.core.internal.Names;
import java.util.Objects;

/**
 * A typed channel: a name tasks are published to and listened for, and the record type of its
 * payloads, which travel as JSON.
 *
 * <pre>{@code
 * record OrderPlaced(UUID orderId, BigDecimal amount) {}
 * static final Channel<OrderPlaced> ORDERS = Channel.of("orders", OrderPlaced.class);
 * }</pre>
 *
 * <p>Names: ASCII letters, digits and underscores, starting with a letter or underscore. With the
 * installation's schema they must fit in Postgres's 63-byte identifier limit (54 bytes with the
 * default schema {@code pgpubsub}); that part is checked when the channel is used.
 *
 * @param name        the channel name
 * @param payloadType the record its payloads map to
 * @param <P>         the payload type
 */
public record Channel<P extends Record>(String name, Class<P> payloadType) {

    /**
     * Validates the name and the payload type; see {@link #of(String, Class)}.
     *
     * @param name        the channel name: ASCII letters, digits and underscores, starting with a
     *                    letter or underscore
     * @param payloadType the record class of its payloads; not null
     * @throws IllegalArgumentException when the name breaks the naming rule (the message says how)
     */
    public Channel {
        Names.requireChannel(name);
        Objects.requireNonNull(payloadType, () -> "Channel '" + name + "' has no payload type: pass the record class of its payloads");
    }

    /**
     * A channel named {@code name} whose payloads are {@code payloadType} records.
     *
     * @param name        the channel name: ASCII letters, digits and underscores, starting with a
     *                    letter or underscore
     * @param payloadType the record class of its payloads; not null
     * @param <P>         the payload type
     * @return the channel
     * @throws IllegalArgumentException when the name breaks the naming rule (the message says how)
     */
    public static <P extends Record> Channel<P> of(String name, Class<P> payloadType) {
        return new Channel<>(name, payloadType);
    }

    @Override
    public String toString() {
        return "Channel[" + name + ", " + payloadType.getName() + "]";
    }
}
