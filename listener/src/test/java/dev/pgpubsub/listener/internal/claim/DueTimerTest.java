package dev.pgpubsub.listener.internal.claim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DueTimerTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void theEarliestTimerOfAChannelWins() throws Exception {
        WakeQueue queue = new WakeQueue(List.of("a"), 1, scheduler, 50);
        DueTimer timer = new DueTimer(scheduler, queue, List.of("a"));
        timer.wakeIn("a", 60_000);
        timer.wakeIn("a", 10); // earlier: replaces the first
        timer.wakeIn("a", 30_000); // later: ignored
        assertThat(queue.take(5_000)).isEqualTo("a");
        assertThat(queue.take(50)).isNull();
    }

    @Test
    void aTimerSetAfterItsSchedulerStoppedIsDroppedQuietly() {
        WakeQueue queue = new WakeQueue(List.of("a"), 1, scheduler, 50);
        DueTimer timer = new DueTimer(scheduler, queue, List.of("a"));
        scheduler.shutdownNow();
        timer.wakeIn("a", 10); // during a shutdown: must not throw into a worker's failure handling
    }
}
