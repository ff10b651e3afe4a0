package dev.pgpubsub.spring.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** An order an application saves in the transaction that publishes its task. */
@Entity
@Table(name = "shop_order")
public class ShopOrder {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "jpa_seq")
    @SequenceGenerator(name = "jpa_seq", sequenceName = "jpa_seq", allocationSize = 50)
    private Long id;
    private long n;

    protected ShopOrder() {
    }

    public ShopOrder(long n) {
        this.n = n;
    }
}
