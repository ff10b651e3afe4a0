package dev.pgpubsub.examples.spring;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;

/**
 * The invoice of an order, a row of the table {@code invoices}. The table has no unique key on
 * {@code order_id} on purpose: an order handled twice would show as a second invoice.
 */
@Entity
@Table(name = "invoices")
public class Invoice {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "order_id")
    private long orderId;

    private BigDecimal amount;

    @Column(name = "task_id")
    private long taskId;

    /** For JPA. */
    protected Invoice() {
    }

    /**
     * A new invoice.
     *
     * @param orderId the order it bills
     * @param amount  what it bills
     * @param taskId  the task that wrote it
     */
    public Invoice(long orderId, BigDecimal amount, long taskId) {
        this.orderId = orderId;
        this.amount = amount;
        this.taskId = taskId;
    }

    /**
     * The order it bills.
     *
     * @return the order's id
     */
    public long getOrderId() {
        return orderId;
    }

    /**
     * What it bills.
     *
     * @return the amount
     */
    public BigDecimal getAmount() {
        return amount;
    }

    /**
     * The task that wrote it.
     *
     * @return the task's id
     */
    public long getTaskId() {
        return taskId;
    }
}
