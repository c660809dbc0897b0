package dev.sluice.core.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The throttler's scale-from-zero hook, its demand reading, and the cold-start watch on it. */
class ZeroPodEventsTest {

    private static final long FAR = Long.MAX_VALUE / 2;

    private final ManualClock clock = new ManualClock();
    private final List<String> events = new ArrayList<>();
    private final List<Long> coldStarts = new ArrayList<>();

    private RevisionThrottler throttler(PodTable table, int cc) {
        RevisionThrottler th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), cc, 100, clock);
        th.updateCapacity();
        ColdStartWatch watch = new ColdStartWatch(clock, th::routablePods, coldStarts::add);
        th.listen(ZeroPodListener.both(watch, new ZeroPodListener() {
            @Override
            public void queuedWithNoPod() {
                events.add("queued-with-no-pod");
            }

            @Override
            public void podsRoutable() {
                events.add("pods-routable");
            }
        }));
        return th;
    }

    @Test
    void aRequestQueuedAtZeroPodsIsHeardAndTheFirstPodEndsTheColdStart() {
        PodTable table = new PodTable(4);
        RevisionThrottler th = throttler(table, 1);
        RecordingListener first = new RecordingListener();
        th.acquire(FAR, first);
        clock.advance(Duration.ofMillis(10));
        th.acquire(FAR, new RecordingListener());
        assertThat(events).containsExactly("queued-with-no-pod", "queued-with-no-pod");
        assertThat(th.demand()).isEqualTo(new Demand(2, 0, 0, 1, 2));

        clock.advance(Duration.ofMillis(1_490));
        table.add("pod-1", "10.0.0.1:80", PodState.READY, 1, clock.nanoTime());
        th.updateCapacity();

        assertThat(events).containsExactly("queued-with-no-pod", "queued-with-no-pod", "pods-routable");
        assertThat(coldStarts).containsExactly(Duration.ofMillis(1_500).toNanos());
        assertThat(first.pod).isNotNull();
        assertThat(th.demand()).isEqualTo(new Demand(1, 1, 1, 1, 2));
        assertThat(th.demand().total()).isEqualTo(2);
    }

    @Test
    void requestsQueuedBehindABusyPodAreNotAColdStart() {
        PodTable table = new PodTable(4);
        table.add("pod-1", "10.0.0.1:80", PodState.READY, 1, 0);
        RevisionThrottler th = throttler(table, 1);
        th.acquire(FAR, new RecordingListener());
        th.acquire(FAR, new RecordingListener());
        assertThat(events).isEmpty();
        assertThat(th.demand()).isEqualTo(new Demand(1, 1, 1, 1, 2));
    }

    @Test
    void podsReturningWithNobodyWaitingRecordNoColdStart() {
        PodTable table = new PodTable(4);
        RevisionThrottler th = throttler(table, 1);
        table.add("pod-1", "10.0.0.1:80", PodState.READY, 1, 0);
        th.updateCapacity();
        assertThat(events).containsExactly("pods-routable");
        assertThat(coldStarts).isEmpty();
    }
}
