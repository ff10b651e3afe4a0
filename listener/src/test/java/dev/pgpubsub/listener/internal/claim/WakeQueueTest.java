package dev.pgpubsub.listener.internal.claim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WakeQueueTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void aChannelIsQueuedAtMostOnceHoweverOftenItIsWoken() throws Exception {
        WakeQueue queue = new WakeQueue(List.of("a", "b"), 1, scheduler, 50);
        for (int i = 0; i < 1_000; i++) {
            queue.wake("a");
        }
        queue.wake("b");
        assertThat(queue.take(100)).isEqualTo("a");
        assertThat(queue.take(100)).isEqualTo("b");
        assertThat(queue.take(10)).isNull();
    }

    @Test
    void aChannelTakenOffTheQueueCanBeQueuedAgainWhileItsTurnRuns() throws Exception {
        WakeQueue queue = new WakeQueue(List.of("a"), 1, scheduler, 50);
        queue.wake("a");
        assertThat(queue.take(100)).isEqualTo("a");
        queue.wake("a"); // arrives during the turn
        assertThat(queue.take(100)).isEqualTo("a");
    }

    @Test
    void unknownChannelsAreIgnoredAndStopReachesEveryWorker() throws Exception {
        WakeQueue queue = new WakeQueue(List.of("a"), 2, scheduler, 50);
        queue.wake("not-served");
        queue.stop(2);
        assertThat(queue.take(100)).isEqualTo(WakeQueue.STOP);
        assertThat(queue.take(100)).isEqualTo(WakeQueue.STOP);
    }

    @Test
    void afterTwoEmptyTurnsAChannelCoolsDownAndWakeUpsMeanwhileBecomeOneTurn() throws Exception {
        WakeQueue queue = new WakeQueue(List.of("a"), 1, scheduler, 50);
        queue.foundNothing("a");
        queue.foundNothing("a");
        queue.foundNothing("a"); // cooling for 2 ms
        long start = System.nanoTime();
        queue.wake("a");
        queue.wake("a");
        assertThat(queue.take(1_000)).isEqualTo("a");
        assertThat(System.nanoTime() - start).as("nanoseconds until the turn").isGreaterThanOrEqualTo(1_000_000);
        assertThat(queue.take(20)).isNull();
        queue.foundWork("a"); // resets the cooldown
        queue.wake("a");
        assertThat(queue.take(0)).isEqualTo("a");
    }
}
