package dev.pgpubsub.spring.jpa;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Query;

/** The Spring Data JPA repository of {@link InvoiceRow}. */
public interface InvoiceRows extends JpaRepository<InvoiceRow, Long> {

    /** The id of the database transaction this runs in, from the session's own connection. */
    @Query(value = "SELECT pg_current_xact_id()::text::bigint", nativeQuery = true)
    long currentTransactionId();
}
