package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.listener.Fixtures.Invoice;
import dev.pgpubsub.listener.Fixtures.Order;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Registration checks everything before anything connects, and says what to fix. */
class RegistrationTest {

    private static ListenerBuilder builder() {
        return Listener.builder().jdbcUrl("jdbc:postgresql://localhost:5432/shop");
    }

    public static class NoHandlers {
        public void onOrder(Order order) {
        }
    }

    public static class PrivateHandler {
        @Listen("orders")
        void onOrder(Order order) {
        }
    }

    public static class WrongParameter {
        @Listen("orders")
        public void onOrder(String order) {
        }
    }

    public static class NoPayload {
        @Listen("orders")
        public void onOrder(TaskContext context) {
        }
    }

    public static class BadChannel {
        @Listen("orders; DROP TABLE x")
        public void onOrder(Order order) {
        }
    }

    public static class LongChannel {
        @Listen("a_channel_name_that_is_long_enough_to_overflow_the_limit")
        public void onOrder(Order order) {
        }
    }

    public static class Orders {
        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    public static class MoreOrders {
        @Listen("orders")
        public void again(Order order, TaskContext context) {
        }
    }

    public static class Base {
        @Listen("invoices")
        public void onInvoice(Invoice invoice) {
        }
    }

    public static class Derived extends Base {
        @Listen("orders")
        public void onOrder(Order order) {
        }
    }

    @Test
    void aBeanWithoutHandlerMethodsIsRefused() {
        assertThatThrownBy(() -> builder().handlers(new NoHandlers()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(NoHandlers.class.getName())
                .hasMessageContaining("no method annotated @Listen")
                .hasMessageContaining("@Listen(\"orders\") public void");
    }

    @Test
    void aNonPublicHandlerMethodIsRefused() {
        assertThatThrownBy(() -> builder().handlers(new PrivateHandler()))
                .hasMessageContaining(PrivateHandler.class.getName() + ".onOrder(Order)")
                .hasMessageContaining("is not public: make it public");
    }

    @Test
    void aParameterThatIsNeitherARecordNorTheContextIsRefused() {
        assertThatThrownBy(() -> builder().handlers(new WrongParameter()))
                .hasMessageContaining(WrongParameter.class.getName() + ".onOrder(String)")
                .hasMessageContaining("Parameter 1")
                .hasMessageContaining("java.lang.String")
                .hasMessageContaining("payload record");
    }

    @Test
    void aHandlerWithoutAPayloadIsRefused() {
        assertThatThrownBy(() -> builder().handlers(new NoPayload()))
                .hasMessageContaining(NoPayload.class.getName() + ".onOrder(TaskContext)")
                .hasMessageContaining("no payload parameter");
    }

    @Test
    void anInvalidChannelNameIsRefusedNamingTheMethod() {
        assertThatThrownBy(() -> builder().handlers(new BadChannel()))
                .hasMessageContaining(BadChannel.class.getName() + ".onOrder(Order)")
                .hasMessageContaining("'orders; DROP TABLE x'");
    }

    @Test
    void aChannelTooLongForTheSchemaIsRefusedAtBuild() {
        assertThatThrownBy(() -> builder().handlers(new LongChannel()).build())
                .hasMessageContaining(LongChannel.class.getName())
                .hasMessageContaining("at most 54");
    }

    @Test
    void twoHandlersForOneChannelAreRefusedNamingBoth() {
        assertThatThrownBy(() -> builder().handlers(new Orders(), new MoreOrders()))
                .hasMessageContaining("Channel 'orders' has two handlers")
                .hasMessageContaining(Orders.class.getName() + ".onOrder(Order)")
                .hasMessageContaining(MoreOrders.class.getName() + ".again(Order, TaskContext)");
        assertThatThrownBy(() -> builder().handlers(new Orders()).on(ORDERS, (o, c) -> { }))
                .hasMessageContaining("Channel 'orders' has two handlers");
    }

    @Test
    void inheritedHandlerMethodsCount() {
        Listener listener = builder().handlers(new Derived()).build();
        assertThat(listener.channels()).containsExactlyInAnyOrder("orders", "invoices");
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingTheSetting() {
        assertThatThrownBy(() -> builder().workers(0)).hasMessageContaining("workers is 0");
        assertThatThrownBy(() -> builder().batchSize(100_000)).hasMessageContaining("batchSize is 100000");
        assertThatThrownBy(() -> builder().retryBackoff(Duration.ofSeconds(5), Duration.ofSeconds(1)))
                .hasMessageContaining("shorter than initial");
        assertThatThrownBy(() -> builder().pollInterval(Duration.ZERO)).hasMessageContaining("pollInterval is PT0S");
        assertThatThrownBy(() -> Listener.builder().jdbcUrl("jdbc:mysql://db/shop"))
                .hasMessageContaining("'jdbc:mysql://db/shop' is not a Postgres URL");
        assertThatThrownBy(() -> Listener.builder().on(ORDERS, (o, c) -> { }).build()).hasMessageContaining("No JDBC URL");
        assertThatThrownBy(() -> builder().build()).hasMessageContaining("No handlers");
    }

    @Test
    void aBuilderUsedAgainDoesNotChangeAListenerItBuilt() {
        ListenerBuilder builder = builder().handlers(new Orders());
        Listener first = builder.build();
        builder.handlers(new Base());
        assertThat(first.channels()).containsExactly("orders");
    }
}
