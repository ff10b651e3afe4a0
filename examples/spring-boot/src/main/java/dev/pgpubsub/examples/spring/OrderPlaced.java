package dev.pgpubsub.examples.spring;

import dev.pgpubsub.core.Channel;
import java.math.BigDecimal;

/**
 * The task of the shop: an order was placed.
 *
 * @param orderId the order's id
 * @param amount  what it costs
 */
public record OrderPlaced(long orderId, BigDecimal amount) {

    /** The channel orders are published to, which {@link InvoiceHandler} listens on. */
    public static final Channel<OrderPlaced> CHANNEL = Channel.of("orders", OrderPlaced.class);
}
