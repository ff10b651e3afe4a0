package dev.pgpubsub.listener.internal.schedule;

/**
 * A schedule as the listener runs it: what {@code dev.pgpubsub.listener.Schedule} declared.
 *
 * @param name       unique in the database
 * @param definition for display
 * @param slots      when it is due
 * @param channel    where its tasks go
 * @param payload    their JSON
 * @param catchUp    whether a slot later than the grace is published all the same
 */
public record ScheduleSpec(String name, String definition, Slots slots, String channel, String payload, boolean catchUp) {
}
