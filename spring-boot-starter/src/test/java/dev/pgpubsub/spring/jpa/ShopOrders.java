package dev.pgpubsub.spring.jpa;

import org.springframework.data.jpa.repository.JpaRepository;

/** The Spring Data JPA repository of {@link ShopOrder}. */
public interface ShopOrders extends JpaRepository<ShopOrder, Long> {
}
