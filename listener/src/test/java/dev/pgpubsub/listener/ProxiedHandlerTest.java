package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.listener.Fixtures.Invoice;
import dev.pgpubsub.listener.Fixtures.Order;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link ListenerBuilder#handler(Object, Class)}: handler methods read on a proxy's target class,
 * every call made through the proxy, so that its advice runs. No container involved: a
 * {@link Proxy} stands for an interface-based proxy, a hand-written subclass for a subclassing one.
 */
@PostgresTest
class ProxiedHandlerTest {

    /** The interface an interface-based proxy implements. */
    public interface OrderHandling {
        void onOrder(Order order, TaskContext context) throws SQLException;
    }

    /** The target: the annotations are here, not on the proxy. */
    public static class OrderHandlers implements OrderHandling {
        @Override
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            Fixtures.recordHandled(context, order.n(), "target");
        }

        @Listen("invoices")
        public void onInvoice(Invoice invoice) {
        }
    }

    /** Only {@link OrderHandlers#onOrder} is on an interface, so a proxy of it cannot serve invoices. */
    public static class OrdersOnly implements OrderHandling {
        @Override
        @Listen("orders")
        public void onOrder(Order order, TaskContext context) throws SQLException {
            Fixtures.recordHandled(context, order.n(), "target");
        }
    }

    /** What a subclassing proxy looks like: the override carries no annotation, and adds advice. */
    public static class SubclassProxy extends OrdersOnly {
        final AtomicInteger advised = new AtomicInteger();

        @Override
        public void onOrder(Order order, TaskContext context) throws SQLException {
            advised.incrementAndGet();
            super.onOrder(order, context);
        }
    }

    /** An interface-based proxy of {@code target} that counts the calls it forwards. */
    private static OrderHandling proxyOf(OrderHandling target, List<String> calls) {
        InvocationHandler advice = (proxy, method, args) -> {
            calls.add(method.getName());
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (OrderHandling) Proxy.newProxyInstance(OrderHandling.class.getClassLoader(),
                new Class<?>[] {OrderHandling.class}, advice);
    }

    private static ListenerBuilder builder() {
        return Listener.builder().jdbcUrl("jdbc:postgresql://localhost:5432/shop");
    }

    @Test
    void anInterfaceProxyRunsEveryTaskThroughItsAdvice(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        List<String> calls = new CopyOnWriteArrayList<>();
        OrderHandling proxy = proxyOf(new OrdersOnly(), calls);
        try (Listener listener = Fixtures.listenerFor(db).handler(proxy, OrdersOnly.class).workers(2).build()) {
            assertThat(listener.channels()).containsExactly("orders");
            listener.start();
            Fixtures.publishOrders(db, 0, 50);
            await().atMost(AWAIT).until(() -> Fixtures.count(db, "SELECT count(*) FROM handled") == 50);
            assertThat(Fixtures.count(db, "SELECT count(DISTINCT n) FROM handled")).isEqualTo(50);
            // Every task went through the proxy: its advice ran once per task.
            assertThat(calls.stream().filter("onOrder"::equals)).hasSize(50);
        }
    }

    @Test
    void aSubclassProxyIsCalledThroughItsOverride(TestDatabase db) throws Exception {
        Fixtures.reset(db);
        SubclassProxy proxy = new SubclassProxy();
        // Read on its own class, the proxy shows no handler: the override hides the annotation.
        assertThatThrownBy(() -> builder().handlers(proxy)).hasMessageContaining("no method annotated @Listen");
        try (Listener listener = Fixtures.listenerFor(db).handler(proxy, OrdersOnly.class).workers(2).start()) {
            Fixtures.publishOrders(db, 0, 20);
            await().atMost(AWAIT).until(() -> Fixtures.count(db, "SELECT count(*) FROM handled") == 20);
            assertThat(proxy.advised).hasValue(20);
        }
    }

    @Test
    void aHandlerMethodTheInterfaceProxyLacksIsRefusedNamingTheInterfaces() {
        OrderHandling proxy = proxyOf(new OrderHandlers(), new CopyOnWriteArrayList<>());
        assertThatThrownBy(() -> builder().handler(proxy, OrderHandlers.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(OrderHandlers.class.getName() + ".onInvoice(Invoice)")
                .hasMessageContaining("interface-based proxy of [interface " + OrderHandling.class.getName() + "]")
                .hasMessageContaining("declare the method on one of those interfaces");
    }

    @Test
    void theDeclaringClassIsCheckedLikeAnyBean() {
        assertThatThrownBy(() -> builder().handler(null, OrdersOnly.class)).hasMessageContaining("handler bean is null");
        assertThatThrownBy(() -> builder().handler(new OrdersOnly(), null)).hasMessageContaining("is null");
        assertThatThrownBy(() -> builder().handler(new OrdersOnly(), OrderHandling.class))
                .hasMessageContaining("which is not a class");
        assertThatThrownBy(() -> builder().handler(new Object(), Object.class))
                .hasMessageContaining("no method annotated @Listen");
        assertThatThrownBy(() -> builder().handler(new Object(), OrdersOnly.class))
                .hasMessageContaining("cannot be called on bean java.lang.Object");
        // The same checks as handlers(...): a second handler for a channel is refused.
        assertThatThrownBy(() -> builder().handler(new OrdersOnly(), OrdersOnly.class).handlers(new OrderHandlers()))
                .hasMessageContaining("Channel 'orders' has two handlers");
    }
}
