package dev.pgpubsub.spring;

import dev.pgpubsub.listener.micrometer.PgPubSubMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * The publisher's and the listener's meters ({@link PgPubSubMetrics}) in the application's Micrometer
 * {@code MeterRegistry}, Actuator's included, when there is one; turned off by
 * {@code pgpubsub.metrics.enabled=false}. The {@code Publisher} bean and the listener report to the
 * one {@code PgPubSubMetrics} bean (of several observer beans, the {@code @Primary} one). With
 * several registries, the {@code @Primary} one (Spring Boot's composite registry is). See {@code docs/spring-boot.md}, Metrics.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
@ConditionalOnSingleCandidate(type = "io.micrometer.core.instrument.MeterRegistry")
@ConditionalOnProperty(prefix = "pgpubsub.metrics", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(PgPubSubProperties.class)
public class PgPubSubMetricsAutoConfiguration {

    /** Created by Spring. */
    public PgPubSubMetricsAutoConfiguration() {
    }

    @Bean
    @ConditionalOnMissingBean
    PgPubSubMetrics pgPubSubMetrics(MeterRegistry registry, PgPubSubProperties properties) {
        PgPubSubProperties.Metrics settings = properties.getMetrics();
        return PgPubSubMetrics.of(registry, PgPubSubMetrics.Options.defaults()
                .withMaxChannelTags(settings.getMaxChannelTags())
                .withPercentileHistograms(settings.isPercentileHistograms())
                .withQueueDepthInterval(settings.getQueueDepthInterval())
                .withQueueDepthCap(settings.getQueueDepthCap()));
    }
}
