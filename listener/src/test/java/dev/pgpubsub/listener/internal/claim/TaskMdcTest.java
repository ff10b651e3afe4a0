package dev.pgpubsub.listener.internal.claim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class TaskMdcTest {

    @AfterEach
    void clear() {
        MDC.clear();
    }

    @Test
    void aTasksScopeSetsItsKeysBackToWhatTheyHeldAndLeavesTheCallersOwnEntries() {
        MDC.put("request", "r-1");
        MDC.put(TaskMdc.TASK_ID, "outer");
        TaskMdc mdc = new TaskMdc();
        try (TaskMdc scope = mdc.task(42, "orders", 3)) {
            assertThat(MDC.getCopyOfContextMap()).isEqualTo(Map.of("request", "r-1", TaskMdc.TASK_ID, "42",
                    TaskMdc.CHANNEL, "orders", TaskMdc.ATTEMPT, "3"));
            scope.put("traceId", "abc"); // more context joins the scope and leaves with it
            scope.put("traceId", "def");
            assertThat(MDC.get("traceId")).isEqualTo("def");
        }
        assertThat(MDC.getCopyOfContextMap()).isEqualTo(Map.of("request", "r-1", TaskMdc.TASK_ID, "outer"));

        // Reused for the next task, it starts empty.
        MDC.clear();
        try (TaskMdc scope = mdc.task(43, "invoices", 1)) {
            assertThat(MDC.get(TaskMdc.CHANNEL)).isEqualTo("invoices");
        }
        assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
    }
}
