package dev.pgpubsub.listener.internal.claim;

import io.micrometer.observation.Observation;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.handler.TracingObservationHandler;

/** Puts the ids of an observation's span in the MDC; loaded only when Micrometer Tracing is at hand. */
final class TraceIds {

    /** The trace's id, 32 hex digits with W3C propagation. */
    static final String TRACE_ID = "traceId";
    /** The handler's span. */
    static final String SPAN_ID = "spanId";
    /** The publisher's span, the handler span's parent. */
    static final String PARENT_ID = "parentId";

    private TraceIds() {
    }

    static void put(Observation.Context context, TaskMdc mdc) {
        TracingObservationHandler.TracingContext tracing = context.get(TracingObservationHandler.TracingContext.class);
        Span span = tracing == null ? null : tracing.getSpan();
        if (span == null) {
            return; // no tracer handled the observation
        }
        TraceContext ids = span.context();
        mdc.put(TRACE_ID, ids.traceId());
        mdc.put(SPAN_ID, ids.spanId());
        if (ids.parentId() != null && !ids.parentId().isEmpty()) {
            mdc.put(PARENT_ID, ids.parentId());
        }
    }
}
