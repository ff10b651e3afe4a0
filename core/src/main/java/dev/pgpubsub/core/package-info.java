/**
 * The public API of pgpubsub's core: installing the schema ({@link dev.pgpubsub.core.PgPubSub}) and,
 * with the next releases, typed channels and transactional publishing.
 */
package dev.pgpubsub.core;
