package dev.pgpubsub.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpubsub.core.internal.PayloadCodec;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Payloads survive the trip through jsonb, rows written by a newer publisher still read, and a payload that lacks a component does not. */
@PostgresTest
class PayloadRoundTripTest {

    record Money(BigDecimal amount, String currency) {
    }

    record Line(String sku, int quantity, Money price) {
    }

    record Order(UUID id, Instant placedAt, List<Line> lines, Optional<String> note, Optional<String> coupon,
            Map<String, Long> counters, Money total) {
    }

    record Slim(UUID id) {
    }

    record Counter(int k) {
    }

    record Flags(boolean on, String label, List<String> tags) {
    }

    /** A declaration annotation named Nullable, as jakarta.annotation's and JSR-305's are. */
    static final class OnTheComponent {
        @Retention(RetentionPolicy.RUNTIME)
        @interface Nullable {
        }
    }

    /** A type-use annotation named Nullable, as JSpecify's is. */
    static final class OnTheType {
        @Retention(RetentionPolicy.RUNTIME)
        @Target(ElementType.TYPE_USE)
        @interface Nullable {
        }
    }

    record Tolerant(long n, Optional<String> note, OptionalLong limit, @OnTheComponent.Nullable String declared,
            @OnTheType.Nullable Money typed, @OnTheComponent.Nullable Integer boxed) {
    }

    /** Declares its canonical constructor: the component's annotation does not reach the parameter. */
    record Declared(long n, @OnTheComponent.Nullable String note) {
        Declared(long n, String note) {
            this.n = n;
            this.note = note;
        }
    }

    private static final Channel<Order> ORDERS = Channel.of("orders", Order.class);
    private static final PayloadCodec CODEC = PayloadCodec.standard();

    private final TestDatabase db;

    PayloadRoundTripTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void install(TestDatabase db) {
        PgPubSub.migrate(db.dataSource());
    }

    @Test
    void nestedRecordsListsInstantsDecimalsOptionalsAndUuidsRoundTrip() throws SQLException {
        Order order = new Order(UUID.randomUUID(), Instant.parse("2026-11-23T10:15:30.123456Z"),
                List.of(new Line("A-1", 2, new Money(new BigDecimal("19.990"), "EUR")),
                        new Line("B-2", 1, new Money(new BigDecimal("0.000000000000000001"), "EUR"))),
                Optional.of("leave at door"), Optional.empty(), Map.of("retries", 3L),
                new Money(new BigDecimal("12345678901234567890.12"), "EUR"));
        long id = Publisher.create().publish(db.dataSource(), ORDERS, order);

        String json = db.strings("SELECT payload::text FROM pgpubsub.notification WHERE id = " + id).get(0);
        assertThat(CODEC.read("orders", json, Order.class)).isEqualTo(order);
    }

    @Test
    void aRowWithAnUnknownPropertyStillReads() throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = db.connect()) {
            c.createStatement().execute("SELECT pgpubsub.publish('slim', jsonb_build_object('id', '" + id
                    + "', 'addedByANewerVersion', jsonb_build_object('x', 1)))");
        }
        String json = db.strings("SELECT payload::text FROM pgpubsub.notification WHERE channel = 'slim'").get(0);
        assertThat(CODEC.read("slim", json, Slim.class)).isEqualTo(new Slim(id));
    }

    @Test
    void jsonThatDoesNotMapNamesTheChannelAndTheType() {
        assertThatThrownBy(() -> CODEC.read("slim", "{\"id\": \"not-a-uuid\"}", Slim.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'slim'")
                .hasMessageContaining(Slim.class.getName());
    }

    /**
     * Jackson passes 0, false or null for a missing component: {@code {}} ran a handler of
     * {@code record Counter(int k)} with k = 0, while {@code {"k": null}} was refused.
     */
    @Test
    void aMissingComponentDoesNotMapAndTheReasonNamesTheFieldAndTheRecord() {
        for (PayloadCodec codec : List.of(CODEC, PayloadCodec.using(JsonMapper.builder().build()), PayloadCodec.forTableRows())) {
            assertThatThrownBy(() -> codec.read("counters", "{}", Counter.class))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'counters'")
                    .hasMessageContaining("the field 'k' is missing, and record " + Counter.class.getName() + " requires it");
            assertThatThrownBy(() -> codec.read("flags", "{\"label\": \"x\", \"tags\": []}", Flags.class))
                    .hasMessageContaining("the field 'on' is missing");
            assertThatThrownBy(() -> codec.read("flags", "{\"on\": true, \"tags\": null}", Flags.class))
                    .hasMessageContaining("the field 'label' is missing");
            assertThat(codec.read("flags", "{\"on\": true, \"label\": null, \"tags\": null}", Flags.class))
                    .isEqualTo(new Flags(true, null, null));
        }
    }

    @Test
    void nestedRecordsAreStrictAndTheReasonSaysWhere() {
        String json = "{\"id\": \"" + UUID.randomUUID() + "\", \"placedAt\": \"2026-11-23T10:15:30Z\", "
                + "\"lines\": [{\"sku\": \"A\", \"quantity\": 1, \"price\": {\"amount\": 1, \"currency\": \"EUR\"}}, "
                + "{\"sku\": \"B\", \"quantity\": 1, \"price\": {\"amount\": 2}}], \"note\": null, \"coupon\": null, "
                + "\"counters\": {}, \"total\": {\"amount\": 3, \"currency\": \"EUR\"}}";
        assertThatThrownBy(() -> CODEC.read("orders", json, Order.class))
                .hasMessageContaining("does not map to " + Order.class.getName())
                .hasMessageContaining("the field 'lines[1].price.currency' is missing, and record " + Money.class.getName());
    }

    @Test
    void optionalAndNullableComponentsMayBeMissing() {
        for (PayloadCodec codec : List.of(CODEC, PayloadCodec.using(JsonMapper.builder().build()))) {
            assertThat(codec.read("tolerant", "{\"n\": 7}", Tolerant.class))
                    .isEqualTo(new Tolerant(7, Optional.empty(), OptionalLong.empty(), null, null, null));
            assertThat(codec.read("declared", "{\"n\": 7}", Declared.class)).isEqualTo(new Declared(7, null));
            assertThatThrownBy(() -> codec.read("tolerant", "{\"note\": \"x\"}", Tolerant.class))
                    .hasMessageContaining("the field 'n' is missing");
        }
    }

    @Test
    void theApplicationsMapperIsLeftAsItWas() {
        JsonMapper own = JsonMapper.builder().build();
        PayloadCodec.using(own).read("counters", "{\"k\": 1}", Counter.class);
        assertThat(own.readValue("{}", Counter.class)).isEqualTo(new Counter(0));
    }

    @Test
    void aClassNameInTheDataIsNeverUsed() {
        String hostile = "{\"id\": \"" + UUID.randomUUID() + "\", \"@class\": \"java.lang.ProcessBuilder\"}";
        assertThat(CODEC.read("slim", hostile, Slim.class)).isInstanceOf(Slim.class);
    }

    /** Many applications set their mapper to leave nulls out; their payloads must still read back. */
    @Test
    void aMapperThatLeavesNullsOutStillWritesPayloadsThatReadBack() {
        JsonMapper nonNull = JsonMapper.builder()
                .changeDefaultPropertyInclusion(v -> com.fasterxml.jackson.annotation.JsonInclude.Value.construct(
                        com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL,
                        com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL))
                .build();
        PayloadCodec codec = PayloadCodec.using(nonNull);
        Flags flags = new Flags(true, null, List.of());
        String json = new String(codec.write("flags", flags), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(json).contains("\"label\":null");
        assertThat(codec.read("flags", json, Flags.class)).isEqualTo(flags);
        assertThat(new String(nonNull.writeValueAsBytes(flags), java.nio.charset.StandardCharsets.UTF_8))
                .as("the application's own mapper is left as it was").doesNotContain("label");
    }
}
