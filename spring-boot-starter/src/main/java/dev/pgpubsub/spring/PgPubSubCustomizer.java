package dev.pgpubsub.spring;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.ListenerBuilder;

/**
 * Changes the builders of the {@code Publisher} bean and of the listener before they are built, for
 * settings that {@code pgpubsub.*} properties do not cover. Every bean of this type is applied, in
 * their {@code @Order}; the library's own (tracing, when there is an {@code ObservationRegistry})
 * among them.
 *
 * <pre>{@code
 * @Bean
 * PgPubSubCustomizer pgPubSubJson(JsonMapper mapper) {
 *     return new PgPubSubCustomizer() {
 *         public void customize(Publisher.Builder publisher) { publisher.jsonMapper(mapper); }
 *         public void customize(ListenerBuilder listener) { listener.jsonMapper(mapper); }
 *     };
 * }
 * }</pre>
 */
public interface PgPubSubCustomizer {

    /**
     * Changes the settings of the {@code Publisher} bean.
     *
     * @param publisher its builder, with the {@code pgpubsub.*} settings applied
     */
    default void customize(Publisher.Builder publisher) {
    }

    /**
     * Changes the settings of the listener.
     *
     * @param listener its builder, with the {@code pgpubsub.listener.*} settings applied, before the
     *                 handler beans are registered
     */
    default void customize(ListenerBuilder listener) {
    }
}
