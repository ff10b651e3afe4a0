package dev.pgpubsub.spring.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** A row whose code is unique in the database: a duplicate fails at flush, not at save. */
@Entity
@Table(name = "ticket")
public class Ticket {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "jpa_seq")
    @SequenceGenerator(name = "jpa_seq", sequenceName = "jpa_seq", allocationSize = 50)
    private Long id;
    private String code;
    private int attempt;

    protected Ticket() {
    }

    public Ticket(String code, int attempt) {
        this.code = code;
        this.attempt = attempt;
    }
}
