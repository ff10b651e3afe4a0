/**
 * The listener: a dedicated pgjdbc-ng LISTEN connection that wakes workers, which claim due tasks
 * with {@code FOR UPDATE SKIP LOCKED} and run their handlers inside the claiming transaction.
 */
package dev.pgpubsub.listener;
