package dev.pgpubsub.examples.spring;

import dev.pgpubsub.spring.TransactionalPublisher;
import java.math.BigDecimal;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders: each order and its task commit together, or not at all. */
@Service
public class OrderService {

    private final ShopOrderRepository orders;
    private final TransactionalPublisher publisher;

    /**
     * Created by Spring.
     *
     * @param orders    the orders' repository
     * @param publisher the starter's publisher, which publishes in the caller's transaction
     */
    public OrderService(ShopOrderRepository orders, TransactionalPublisher publisher) {
        this.orders = orders;
        this.publisher = publisher;
    }

    /**
     * Saves an order and publishes its {@link OrderPlaced} task, in one transaction: the task exists
     * exactly when the order does.
     *
     * @param amount what the order costs
     * @return the saved order
     */
    @Transactional
    public ShopOrder placeOrder(BigDecimal amount) {
        ShopOrder order = orders.save(new ShopOrder(amount));
        publisher.publish(OrderPlaced.CHANNEL, new OrderPlaced(order.getId(), order.getAmount()));
        return order;
    }
}
