package dev.pgpubsub.spring;

import static dev.pgpubsub.spring.TestApps.AWAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.listener.Listen;
import dev.pgpubsub.listener.TaskContext;
import dev.pgpubsub.spring.TestApps.Order;
import dev.pgpubsub.spring.jpa.ShopOrder;
import dev.pgpubsub.spring.jpa.ShopOrders;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The {@link TransactionalPublisher} bean publishes in the caller's Spring transaction (a JPA
 * transaction manager's, in a context made by Spring Boot's own auto-configuration): a rollback
 * publishes nothing, a commit publishes a task that is handled, with the entity saved beside it;
 * outside a transaction it refuses, unless asked for a transaction of its own.
 */
@PostgresTest
class TransactionalPublisherTest {

    static final Channel<Order> PLACED = Channel.of("placed", Order.class);

    /** A JPA service that saves an order and publishes its task in one transaction. */
    @Service
    public static class Shop {
        private final ShopOrders orders;
        private final TransactionalPublisher publisher;

        public Shop(ShopOrders orders, TransactionalPublisher publisher) {
            this.orders = orders;
            this.publisher = publisher;
        }

        @Transactional
        public long place(long n, boolean failAfterPublishing) {
            orders.save(new ShopOrder(n));
            long id = publisher.publish(PLACED, new Order(n));
            if (failAfterPublishing) {
                throw new IllegalStateException("order " + n + " fails after publishing");
            }
            return id;
        }

        @Transactional(readOnly = true)
        public long placeReadOnly(long n) {
            return publisher.publish(PLACED, new Order(n));
        }
    }

    /** Handles the placed orders through JdbcTemplate. */
    @Service
    public static class Placed {
        private final JdbcTemplate jdbc;

        public Placed(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Listen("placed")
        public void onPlaced(Order order, TaskContext context) {
            jdbc.update("INSERT INTO written (task_id, n, attempt, same_tx) VALUES (?, ?, ?, true)", context.id(),
                    order.n(), context.attempt());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ShopApp {
        @Bean
        Shop shop(ShopOrders orders, TransactionalPublisher publisher) {
            return new Shop(orders, publisher);
        }

        @Bean
        Placed placed(JdbcTemplate jdbc) {
            return new Placed(jdbc);
        }
    }

    private final TestDatabase db;

    TransactionalPublisherTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTables() throws SQLException {
        new JpaAndJooqTest(db).createTables();
    }

    private long tasks() throws SQLException {
        return db.number("SELECT count(*) FROM pgpubsub.notification WHERE channel = 'placed'");
    }

    @Test
    void aRollbackPublishesNothingAndACommitPublishesATaskThatIsHandledWithTheEntitySavedBesideIt() {
        JpaAndJooqTest.bootApp(db).withUserConfiguration(ShopApp.class).run(context -> {
            assertThat(context).hasNotFailed();
            Shop shop = context.getBean(Shop.class);
            assertThatThrownBy(() -> shop.place(1, true)).hasMessageContaining("fails after publishing");
            assertThat(tasks()).isZero();
            assertThat(db.number("SELECT count(*) FROM shop_order")).isZero();

            long id = shop.place(2, false);
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM written") == 1);
            assertThat(db.strings("SELECT task_id || ':' || n FROM written")).containsExactly(id + ":2");
            assertThat(db.strings("SELECT n::text FROM shop_order")).containsExactly("2");
            assertThat(tasks()).isZero();
            // The rolled-back task was never published (not published and handled at once).
            assertThat(db.number("SELECT count(*) FROM written WHERE n = 1")).isZero();
        });
    }

    @Test
    void outsideATransactionItRefusesAndPublishesNothingUnlessAskedForATransactionOfItsOwn() {
        JpaAndJooqTest.bootApp(db).withUserConfiguration(ShopApp.class)
                .withPropertyValues("pgpubsub.listener.enabled=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    TransactionalPublisher publisher = context.getBean(TransactionalPublisher.class);
                    assertThatThrownBy(() -> publisher.publish(PLACED, new Order(1)))
                            .isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("no Spring transaction is open on this thread")
                            .hasMessageContaining("@Transactional").hasMessageContaining("inOwnTransaction()");
                    assertThatThrownBy(() -> publisher.publishAll(PLACED, List.of(new Order(2), new Order(3))))
                            .isInstanceOf(IllegalStateException.class);
                    assertThatThrownBy(() -> context.getBean(Shop.class).placeReadOnly(4))
                            .isInstanceOf(IllegalStateException.class).hasMessageContaining("read-only");
                    assertThat(tasks()).isZero();

                    long own = publisher.inOwnTransaction().publish(PLACED, new Order(5));
                    assertThat(db.strings("SELECT id || ':' || (payload->>'n') FROM pgpubsub.notification"))
                            .containsExactly(own + ":5");
                });
    }

    @Test
    void aTransactionTemplateOfTheApplicationsTransactionManagerIsJoinedToo() {
        JpaAndJooqTest.bootApp(db).withUserConfiguration(ShopApp.class)
                .withPropertyValues("pgpubsub.listener.enabled=false")
                .run(context -> {
                    TransactionalPublisher publisher = context.getBean(TransactionalPublisher.class);
                    TransactionTemplate tx = new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
                    tx.executeWithoutResult(status -> {
                        publisher.publishAll(PLACED, List.of(new Order(6), new Order(7)));
                        status.setRollbackOnly();
                    });
                    assertThat(tasks()).isZero();
                    tx.executeWithoutResult(status -> publisher.publishAll(PLACED, List.of(new Order(8), new Order(9))));
                    assertThat(tasks()).isEqualTo(2);
                });
    }
}
