package dev.pgpubsub.spring.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/**
 * A handler's write through JPA: one row per handled task, without a unique key, so that a
 * duplicate shows as a second row. Its id comes from a sequence, so Hibernate inserts it at flush.
 */
@Entity
@Table(name = "jpa_invoice")
public class InvoiceRow {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "jpa_seq")
    @SequenceGenerator(name = "jpa_seq", sequenceName = "jpa_seq", allocationSize = 50)
    private Long id;
    private long taskId;
    private long n;
    private int attempt;
    private boolean sameTx;

    protected InvoiceRow() {
    }

    public InvoiceRow(long taskId, long n, int attempt, boolean sameTx) {
        this.taskId = taskId;
        this.n = n;
        this.attempt = attempt;
        this.sameTx = sameTx;
    }

    public long getN() {
        return n;
    }
}
