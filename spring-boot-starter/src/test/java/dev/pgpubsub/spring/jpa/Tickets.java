package dev.pgpubsub.spring.jpa;

import org.springframework.data.jpa.repository.JpaRepository;

/** The Spring Data JPA repository of {@link Ticket}. */
public interface Tickets extends JpaRepository<Ticket, Long> {
}
