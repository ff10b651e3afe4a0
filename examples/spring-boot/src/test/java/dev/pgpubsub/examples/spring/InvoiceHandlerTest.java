package dev.pgpubsub.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.math.BigDecimal;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Tests the handler in a {@code @SpringBootTest}: the whole application, listener included, on a
 * test database, without the shop's run ({@code shop.run=false}). The test places an order as the
 * application does, and waits for the handler's effect: exactly one invoice, and no task left.
 */
@PostgresTest
@SpringBootTest(properties = "shop.run=false")
@DirtiesContext
class InvoiceHandlerTest {

    private static TestDatabase db;

    @BeforeAll
    static void database(TestDatabase database) {
        db = database;
    }

    @DynamicPropertySource
    static void datasource(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", () -> db.jdbcUrl());
        registry.add("spring.datasource.username", () -> db.user());
        registry.add("spring.datasource.password", () -> db.password());
    }

    @Autowired
    OrderService orderService;

    @Autowired
    InvoiceRepository invoices;

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void aPlacedOrderGetsExactlyOneInvoice() {
        ShopOrder order = orderService.placeOrder(new BigDecimal("9.99"));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(invoices.findByOrderId(order.getId()))
                .singleElement().extracting(Invoice::getAmount).isEqualTo(new BigDecimal("9.99")));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM pgpubsub.notification", Long.class)).isZero();
    }
}
