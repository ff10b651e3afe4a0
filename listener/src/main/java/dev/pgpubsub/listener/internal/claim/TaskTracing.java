package dev.pgpubsub.listener.internal.claim;

/**
 * Whether a handler runs in a trace: not at all ({@link #NONE}, the default), or in an observation
 * that continues the publisher's trace ({@link ObservedTasks}). This interface names no tracing
 * library, so that a listener without one never loads it.
 */
public interface TaskTracing {

    /** No tracing. */
    TaskTracing NONE = (channel, task, mdc) -> Scope.NONE;

    /**
     * Opens the task's trace on the worker thread, before its handler runs: current for the handler
     * and for the library's lines about the task, with the trace and span ids put in {@code mdc}.
     *
     * @param channel the task's channel
     * @param task    the task, with the trace context it was published with (or none)
     * @param mdc     the scope to put the ids in; closed by the returned scope
     * @return the scope to close once the task's outcome is known and logged
     */
    Scope start(String channel, ClaimedTask task, TaskMdc mdc);

    /** A task's trace, open on its worker thread. */
    interface Scope extends AutoCloseable {

        /** No trace. */
        Scope NONE = new Scope() {
            @Override
            public void failed(String error, Throwable cause) {
            }

            @Override
            public void close() {
            }
        };

        /**
         * The attempt failed.
         *
         * @param error what the task's error history records
         * @param cause what the handler threw, or null when it broke its transaction without throwing
         */
        void failed(String error, Throwable cause);

        /** Ends the trace's part for this task and takes it off the thread. */
        @Override
        void close();
    }
}
