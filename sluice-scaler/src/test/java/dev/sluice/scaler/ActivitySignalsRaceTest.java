package dev.sluice.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.Demand;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The race the class notes of {@link ActivitySignals} close: the ticker deciding "inactive" from
 * a reading taken just before a request was queued at zero pods, while that request's thread
 * pokes. Whatever the interleaving, the revision must end active and the last message sent
 * must be {@code true}: a waiting request is never left with "inactive" as the last word.
 */
class ActivitySignalsRaceTest {

    private static final RevisionId REV = new RevisionId("default", "race");

    @Test
    void aPokeRacingTheTickerIsNeverLost() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 5_000; i++) {
                // Grace zero and a reading of no demand: only the poke can keep the revision active.
                ActivitySignals signals = new ActivitySignals(
                        id -> new RevisionDemand(id, new Demand(0, 0, 0, 1, 7), Duration.ZERO), new ManualClock(),
                        Duration.ofHours(1));
                List<Boolean> sent = new CopyOnWriteArrayList<>();
                signals.subscribe(REV, sent::add);
                signals.queuedWithNoPod(REV);
                CountDownLatch go = new CountDownLatch(1);
                Future<?> ticker = threads.submit(() -> {
                    go.await();
                    signals.tick();
                    return null;
                });
                Future<?> request = threads.submit(() -> {
                    go.await();
                    signals.queuedWithNoPod(REV);
                    return null;
                });
                go.countDown();
                ticker.get();
                request.get();
                assertThat(sent).as("iteration %d", i).last().isEqualTo(true);
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
