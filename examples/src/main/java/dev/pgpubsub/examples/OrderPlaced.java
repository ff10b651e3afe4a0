package dev.pgpubsub.examples;

import dev.pgpubsub.core.Channel;
import java.math.BigDecimal;

/**
 * The task of the demo shop: an order was placed.
 *
 * @param orderId the order
 * @param amount  what it costs
 */
public record OrderPlaced(long orderId, BigDecimal amount) {

    /** The channel orders are published to. */
    public static final Channel<OrderPlaced> CHANNEL = Channel.of(Demo.CHANNEL, OrderPlaced.class);
}
