package dev.pgpubsub.core.internal;

/**
 * Where a publish gets the trace context its tasks carry: nothing ({@link #NONE}, the default), or
 * an observation of the publish ({@link ObservedPublishing}). This interface names no tracing
 * library, so that a publisher without one never loads it.
 */
public interface PublishTracing {

    /** No tracing: tasks carry no trace context. */
    PublishTracing NONE = (channel, tasks) -> Span.NONE;

    /**
     * Starts the publish of {@code tasks} tasks to {@code channel}.
     *
     * @return the publish's span, to end once the insert ran or failed
     */
    Span start(String channel, int tasks);

    /** One publish, from the start of its insert to its end. */
    interface Span {

        /** Nothing to carry, nothing to end. */
        Span NONE = new Span() {
            @Override
            public String headers() {
                return null;
            }

            @Override
            public void failed(Throwable error) {
            }

            @Override
            public void end() {
            }
        };

        /** The propagation headers for the tasks, as a JSON object of strings; null for none. */
        String headers();

        /** The insert failed with {@code error}. */
        void failed(Throwable error);

        /** The insert is over. */
        void end();
    }
}
