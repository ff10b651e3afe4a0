package dev.pgpubsub.examples.spring;

import org.springframework.data.jpa.repository.JpaRepository;

/** The orders, through Spring Data JPA. */
public interface ShopOrderRepository extends JpaRepository<ShopOrder, Long> {

    /**
     * Counts the orders whose ids lie in a range.
     *
     * @param from the first id
     * @param to   the last id
     * @return how many orders have an id from {@code from} to {@code to}
     */
    long countByIdBetween(long from, long to);
}
