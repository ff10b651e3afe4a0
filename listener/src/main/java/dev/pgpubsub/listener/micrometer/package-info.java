/**
 * Metrics through Micrometer: {@link dev.pgpubsub.listener.micrometer.PgPubSubMetrics}. Micrometer is
 * an optional dependency; nothing outside this package refers to it.
 */
package dev.pgpubsub.listener.micrometer;
