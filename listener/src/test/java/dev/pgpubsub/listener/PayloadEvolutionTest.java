package dev.pgpubsub.listener;

import static dev.pgpubsub.listener.Fixtures.AWAIT;
import static dev.pgpubsub.listener.Fixtures.count;
import static dev.pgpubsub.listener.Fixtures.listenerFor;
import static dev.pgpubsub.listener.Fixtures.recordHandled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.Channel;
import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A component added to a payload record, in a rolling deploy: the tasks still pending were published
 * in the old shape, without it. A component that may be missing (an {@code Optional}, or
 * {@code @Nullable}) reads them; any other goes to the dead letters at once, with a reason naming the
 * field, instead of running the handler with 0 or null.
 */
@PostgresTest
class PayloadEvolutionTest {

    /** Any annotation with this simple name will do (jakarta, JSpecify, JSR-305, ...). */
    @Retention(RetentionPolicy.RUNTIME)
    @interface Nullable {
    }

    /** The old shape, as the previous version published it. */
    record Order(long n) {
    }

    record WithOptional(long n, Optional<String> coupon) {
    }

    record WithNullable(long n, @Nullable String coupon) {
    }

    record WithPlain(long n, String coupon) {
    }

    record WithPrimitive(long n, int priority) {
    }

    private final TestDatabase db;

    PayloadEvolutionTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void reset() throws SQLException {
        Fixtures.reset(db);
        db.execute("DELETE FROM pgpubsub.dead_letter");
    }

    @Test
    void anOldShapePayloadRunsTheNewHandlerWhenTheAddedComponentIsOptionalOrNullable() throws Exception {
        publishOldShape("evolve_optional", 1);
        publishOldShape("evolve_nullable", 2);
        ConcurrentLinkedQueue<Record> received = new ConcurrentLinkedQueue<>();
        try (Listener listener = listenerFor(db)
                .on(Channel.of("evolve_optional", WithOptional.class), (p, ctx) -> {
                    received.add(p);
                    recordHandled(ctx, p.n(), "optional");
                })
                .on(Channel.of("evolve_nullable", WithNullable.class), (p, ctx) -> {
                    received.add(p);
                    recordHandled(ctx, p.n(), "nullable");
                }).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM handled") == 2);
            assertThat(listener.stats().deadLettered()).isZero();
        }
        assertThat(received).containsExactlyInAnyOrder(new WithOptional(1, Optional.empty()), new WithNullable(2, null));
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
    }

    @Test
    void anOldShapePayloadGoesToTheDeadLettersWhenTheAddedComponentIsPlain() throws Exception {
        publishOldShape("evolve_plain", 1);
        publishOldShape("evolve_primitive", 2);
        AtomicInteger calls = new AtomicInteger();
        try (Listener listener = listenerFor(db)
                .on(Channel.of("evolve_plain", WithPlain.class), (p, ctx) -> calls.incrementAndGet())
                .on(Channel.of("evolve_primitive", WithPrimitive.class), (p, ctx) -> calls.incrementAndGet()).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.dead_letter") == 2);
            assertThat(listener.stats().deadLettered()).isEqualTo(2);
            assertThat(listener.stats().tasksFailed()).isZero();
        }
        assertThat(calls).hasValue(0);
        // At its first attempt, without a handler call.
        assertThat(db.strings("SELECT channel || ': ' || attempts || ' ' || reason FROM pgpubsub.dead_letter ORDER BY channel"))
                .satisfiesExactly(
                        plain -> assertThat(plain).startsWith("evolve_plain: 1 payload unreadable: ")
                                .contains("the field 'coupon' is missing, and record " + WithPlain.class.getName()
                                        + " requires it"),
                        primitive -> assertThat(primitive).startsWith("evolve_primitive: 1 payload unreadable: ")
                                .contains("the field 'priority' is missing, and record " + WithPrimitive.class.getName()
                                        + " requires it"));
        assertThat(count(db, "SELECT count(*) FROM pgpubsub.notification")).isZero();
    }

    /** The application's own mapper reads strictly too. */
    @Test
    void anEmptyObjectIsPoisonWithTheApplicationsMapperToo() throws Exception {
        db.execute("INSERT INTO pgpubsub.notification (channel, payload) VALUES ('evolve_primitive', '{}')");
        publishOldShape("evolve_optional", 3);
        JsonMapper own = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
        ConcurrentLinkedQueue<Record> received = new ConcurrentLinkedQueue<>();
        try (Listener listener = listenerFor(db).jsonMapper(own)
                .on(Channel.of("evolve_primitive", WithPrimitive.class), (p, ctx) -> received.add(p))
                .on(Channel.of("evolve_optional", WithOptional.class), (p, ctx) -> received.add(p)).start()) {
            await().atMost(AWAIT).until(() -> count(db, "SELECT count(*) FROM pgpubsub.notification") == 0);
        }
        assertThat(received).containsExactly(new WithOptional(3, Optional.empty()));
        assertThat(db.strings("SELECT reason FROM pgpubsub.dead_letter")).singleElement().asString()
                .contains("the field 'n' is missing, and record " + WithPrimitive.class.getName());
    }

    private void publishOldShape(String channel, long n) {
        List<Order> orders = List.of(new Order(n));
        Publisher.create().inNewTransaction(db.dataSource(), (tx, c) -> tx.publishAll(Channel.of(channel, Order.class), orders));
    }
}
