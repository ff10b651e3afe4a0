package dev.pgpubsub.examples.spring;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;

/** The invoices, through Spring Data JPA. */
public interface InvoiceRepository extends JpaRepository<Invoice, Long> {

    /**
     * The invoices of an order.
     *
     * @param orderId the order's id
     * @return its invoices: exactly one, once its task is done
     */
    List<Invoice> findByOrderId(long orderId);

    /**
     * Counts the invoices of the orders whose ids lie in a range.
     *
     * @param from the first order id
     * @param to   the last order id
     * @return how many invoices bill an order from {@code from} to {@code to}
     */
    long countByOrderIdBetween(long from, long to);

    /**
     * Counts the orders, among those whose ids lie in a range, that have an invoice.
     *
     * @param from the first order id
     * @param to   the last order id
     * @return how many distinct orders from {@code from} to {@code to} have an invoice
     */
    @Query("SELECT count(DISTINCT i.orderId) FROM Invoice i WHERE i.orderId BETWEEN :from AND :to")
    long countDistinctOrdersBetween(long from, long to);
}
