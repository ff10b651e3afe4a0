package dev.pgpubsub.examples.spring;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;

/** An order, a row of the table {@code orders}. */
@Entity
@Table(name = "orders")
public class ShopOrder {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    private BigDecimal amount;

    /** For JPA. */
    protected ShopOrder() {
    }

    /**
     * A new order.
     *
     * @param amount what it costs
     */
    public ShopOrder(BigDecimal amount) {
        this.amount = amount;
    }

    /**
     * The order's id, given by the database when the order is saved.
     *
     * @return the id, or null before the order is saved
     */
    public Long getId() {
        return id;
    }

    /**
     * What the order costs.
     *
     * @return the amount
     */
    public BigDecimal getAmount() {
        return amount;
    }
}
