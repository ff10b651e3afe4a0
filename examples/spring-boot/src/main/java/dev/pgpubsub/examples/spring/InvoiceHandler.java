package dev.pgpubsub.examples.spring;

import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Writes the invoice of each placed order through Spring Data JPA. The listener runs it in the
 * Spring transaction that claims the task, which this {@code @Transactional} bean and the
 * repository join: the invoice commits exactly once, together with the task's deletion, or rolls
 * back with it and the task is retried.
 */
@Service
@Transactional
public class InvoiceHandler {

    private final InvoiceRepository invoices;

    /**
     * Created by Spring.
     *
     * @param invoices the invoices' repository
     */
    public InvoiceHandler(InvoiceRepository invoices) {
        this.invoices = invoices;
    }

    /**
     * Bills one order.
     *
     * @param order   the task's payload
     * @param context the task (its id)
     */
    @Listen("orders")
    public void onOrderPlaced(OrderPlaced order, TaskContext context) {
        invoices.save(new Invoice(order.orderId(), order.amount(), context.id()));
    }
}
