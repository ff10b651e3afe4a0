package dev.pgpubsub.spring;

import dev.pgpubsub.core.Publisher;
import dev.pgpubsub.listener.ListenerBuilder;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;

/**
 * Publishing and handlers observed in the application's Micrometer {@code ObservationRegistry}
 * (Actuator's, with a tracer bridged to it by Spring Boot's tracing support): tasks carry the
 * publisher's trace context, and each handler continues it, with {@code traceId}, {@code spanId} and
 * {@code parentId} in the MDC. Turned off by {@code pgpubsub.tracing.enabled=false}. See
 * {@code docs/spring-boot.md}, Tracing.
 */
@AutoConfiguration(afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass(name = "io.micrometer.observation.ObservationRegistry")
@ConditionalOnSingleCandidate(type = "io.micrometer.observation.ObservationRegistry")
@ConditionalOnProperty(prefix = "pgpubsub.tracing", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(PgPubSubProperties.class)
public class PgPubSubTracingAutoConfiguration {

    /** Created by Spring. */
    public PgPubSubTracingAutoConfiguration() {
    }

    @Bean
    PgPubSubCustomizer pgPubSubTracing(ObservationRegistry registry) {
        return new Customizer(registry);
    }

    /** First of the customizers, so that an application's own (a listener without tracing, say) have the last word. */
    private static final class Customizer implements PgPubSubCustomizer, Ordered {
        private final ObservationRegistry registry;

        Customizer(ObservationRegistry registry) {
            this.registry = registry;
        }

        @Override
        public int getOrder() {
            return Ordered.HIGHEST_PRECEDENCE;
        }

        @Override
        public void customize(Publisher.Builder publisher) {
            publisher.observationRegistry(registry);
        }

        @Override
        public void customize(ListenerBuilder listener) {
            listener.observationRegistry(registry);
        }
    }
}
