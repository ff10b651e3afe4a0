package dev.pgpubsub.spring;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The listener's health indicator, {@code pgPubSubHealthIndicator} (Actuator's {@code pgPubSub}
 * component), when Spring Boot's health support ({@code spring-boot-health}, which
 * {@code spring-boot-starter-actuator} brings) is on the classpath and the listener is enabled;
 * turned off by {@code management.health.pgpubsub.enabled=false}. See {@code docs/spring-boot.md},
 * Health.
 */
@AutoConfiguration(after = PgPubSubAutoConfiguration.class)
@ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(ListenerLifecycle.class)
public class PgPubSubHealthAutoConfiguration {

    /** Created by Spring. */
    public PgPubSubHealthAutoConfiguration() {
    }

    /**
     * The indicator, unless turned off. Nested, so that its condition, a class of spring-boot-health,
     * is only loaded once that is known to be there.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledHealthIndicator("pgpubsub")
    static class IndicatorConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "pgPubSubHealthIndicator")
        HealthIndicator pgPubSubHealthIndicator(ListenerLifecycle pgPubSubListener, PgPubSubProperties properties) {
            return new PgPubSubHealthIndicator(pgPubSubListener, properties);
        }
    }
}
