package dev.sluice.core.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.ManualClock;
import dev.sluice.core.balance.LoadBalancingPolicy;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RevisionThrottlerTest {

    private static final long FAR = Long.MAX_VALUE / 2;

    private final ManualClock clock = new ManualClock();
    private final AtomicInteger claims = new AtomicInteger();

    private RevisionThrottler throttler(PodTable table, int cc, int depth) {
        LoadBalancingPolicy firstAvailable = PolicyKind.FIRST_AVAILABLE.create();
        LoadBalancingPolicy counting = new LoadBalancingPolicy() {
            @Override
            public PodTracker select(PodTable t) {
                claims.incrementAndGet();
                return firstAvailable.select(t);
            }

            @Override
            public PolicyKind kind() {
                return firstAvailable.kind();
            }
        };
        RevisionThrottler th = new RevisionThrottler(table, counting, cc, depth, clock);
        th.updateCapacity();
        return th;
    }

    private static PodTable pods(int n, int cc) {
        PodTable table = new PodTable(8);
        for (int i = 0; i < n; i++) {
            table.add("pod-" + i, "10.0.0." + i + ":80", PodState.READY, cc, 0);
        }
        return table;
    }

    private static RecordingListener acquire(RevisionThrottler th, long deadline, List<Pending> pendings) {
        RecordingListener l = new RecordingListener();
        pendings.add(th.acquire(deadline, l));
        return l;
    }

    @Test
    void capacityIsCcTimesRoutablePodsSaturating() {
        assertThat(RevisionThrottler.capacityFor(4, 3)).isEqualTo(12);
        assertThat(RevisionThrottler.capacityFor(4, 0)).isZero();
        assertThat(RevisionThrottler.capacityFor(0, 1)).isEqualTo(Integer.MAX_VALUE);
        assertThat(RevisionThrottler.capacityFor(0, 0)).isZero();
        assertThat(RevisionThrottler.capacityFor(Integer.MAX_VALUE, 3)).isEqualTo(Integer.MAX_VALUE);
        assertThat(RevisionThrottler.capacityFor(70_000, 70_000)).isEqualTo(Integer.MAX_VALUE);
        assertThat(throttler(pods(3, 2), 2, 10).capacity()).isEqualTo(6);
    }

    @Test
    void uncontendedAcquireLeasesAtOnceAndReleaseFreesEverything() {
        RevisionThrottler th = throttler(pods(2, 1), 1, 10);
        RecordingListener l = new RecordingListener();
        assertThat(th.acquire(FAR, l)).isSameAs(Pending.NONE);
        assertThat(l.pod).isNotNull();
        assertThat(th.active()).isEqualTo(1);
        th.release(l.pod);
        assertThat(th.active()).isZero();
        assertThat(l.pod.inFlight()).isZero();
        PodTracker direct = th.tryAcquire();
        assertThat(direct).isNotNull();
        th.release(direct);
    }

    @Test
    void waitersAreServedInArrivalOrder() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener first = acquire(th, FAR, p);
        List<RecordingListener> waiting = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waiting.add(acquire(th, FAR, p));
        }
        assertThat(th.queued()).isEqualTo(5);
        assertThat(th.tryAcquire()).as("no barging past waiters").isNull();
        PodTracker held = first.pod;
        for (RecordingListener w : waiting) {
            assertThat(w.answered()).isFalse();
            th.release(held);
            assertThat(w.pod).isNotNull();
            held = w.pod;
        }
        th.release(held);
        assertThat(th.queued()).isZero();
        assertThat(th.active()).isZero();
    }

    @Test
    void aFullQueueRejectsAtOnceAndChangesNothing() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 2);
        List<Pending> p = new ArrayList<>();
        acquire(th, FAR, p);
        acquire(th, FAR, p);
        acquire(th, FAR, p);
        RecordingListener over = acquire(th, FAR, p);
        assertThat(over.rejection).isEqualTo(Rejection.QUEUE_FULL);
        assertThat(p.get(3)).isSameAs(Pending.NONE);
        assertThat(th.queued()).isEqualTo(2);
        assertThat(th.active()).isEqualTo(1);
    }

    @Test
    void waitersPastTheirDeadlineAreRejectedWithQueueTimeout() {
        PodTable table = pods(1, 1);
        RevisionThrottler th = throttler(table, 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener holder = acquire(th, FAR, p);
        RecordingListener soon = acquire(th, clock.nanoTime() + Duration.ofSeconds(1).toNanos(), p);
        RecordingListener later = acquire(th, clock.nanoTime() + Duration.ofSeconds(60).toNanos(), p);
        clock.advance(Duration.ofMillis(999));
        assertThat(th.expireOverdue()).isZero();
        clock.advance(Duration.ofMillis(1));
        assertThat(th.expireOverdue()).isEqualTo(1);
        assertThat(soon.rejection).isEqualTo(Rejection.QUEUE_TIMEOUT);
        assertThat(later.answered()).isFalse();
        assertThat(th.queued()).isEqualTo(1);
        th.release(holder.pod);
        assertThat(later.pod).isNotNull();
    }

    @Test
    void anExpiredWaiterIsSkippedWhenATokenFrees() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener holder = acquire(th, FAR, p);
        RecordingListener expired = acquire(th, clock.nanoTime() + 10, p);
        RecordingListener next = acquire(th, FAR, p);
        clock.advance(Duration.ofNanos(10));
        th.release(holder.pod);
        assertThat(expired.rejection).isEqualTo(Rejection.QUEUE_TIMEOUT);
        assertThat(next.pod).isNotNull();
        assertThat(th.queued()).isZero();
    }

    @Test
    void aCancelledWaiterLeavesTheQueueAndHoldsNothing() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener holder = acquire(th, FAR, p);
        RecordingListener gone = acquire(th, FAR, p);
        RecordingListener next = acquire(th, FAR, p);
        assertThat(p.get(1).cancel()).isTrue();
        assertThat(p.get(1).cancel()).as("second cancel").isFalse();
        assertThat(th.queued()).isEqualTo(1);
        th.release(holder.pod);
        assertThat(gone.answered()).isFalse();
        assertThat(next.pod).isNotNull();
        assertThat(p.get(2).cancel()).as("cancel after the lease was given").isFalse();
        th.release(next.pod);
        assertThat(th.active()).isZero();
        assertThat(th.queued()).isZero();
    }

    @Test
    void shrinkingNeverPreEmptsAndDrainingRequestsDoNotIdleRoutablePods() {
        PodTable table = pods(2, 1);
        RevisionThrottler th = throttler(table, 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener a = acquire(th, FAR, p);
        RecordingListener b = acquire(th, FAR, p);
        assertThat(a.pod).isNotSameAs(b.pod);
        table.moveTo(b.pod, PodState.DRAINING, 1);
        th.updateCapacity();
        assertThat(th.active()).as("running requests keep going").isEqualTo(2);
        RecordingListener c = acquire(th, FAR, p);
        assertThat(c.answered()).isFalse();
        th.release(a.pod);
        assertThat(c.pod).as("the routable pod is not left idle").isSameAs(a.pod);
        th.release(b.pod);
        assertThat(b.pod.inFlight()).isZero();
        th.updateCapacity();
        assertThat(th.capacity()).isEqualTo(1);
        th.release(c.pod);
        assertThat(th.active()).isZero();
    }

    @Test
    void growthServesWaitersInOrder() {
        PodTable table = new PodTable(4);
        RevisionThrottler th = throttler(table, 1, 10);
        assertThat(th.capacity()).isZero();
        List<Pending> p = new ArrayList<>();
        RecordingListener w1 = acquire(th, FAR, p);
        RecordingListener w2 = acquire(th, FAR, p);
        RecordingListener w3 = acquire(th, FAR, p);
        assertThat(th.queued()).isEqualTo(3);
        table.add("a", "h:1", PodState.READY, 1, 0);
        table.add("b", "h:2", PodState.READY, 1, 0);
        th.updateCapacity();
        assertThat(w1.pod).isNotNull();
        assertThat(w2.pod).isNotNull().isNotSameAs(w1.pod);
        assertThat(w3.answered()).isFalse();
        assertThat(th.queued()).isEqualTo(1);
    }

    @Test
    void aTokenWithNoPodGoesBackToTheHeadWithoutSpinning() {
        PodTable table = pods(1, 1);
        RevisionThrottler th = throttler(table, 1, 10);
        PodTracker pod = table.trackerAt(0);
        // The writer took the pod out of rotation but has not lowered capacity yet.
        table.moveTo(pod, PodState.NOT_READY, 1);
        List<Pending> p = new ArrayList<>();
        claims.set(0);
        RecordingListener first = acquire(th, FAR, p);
        RecordingListener second = acquire(th, FAR, p);
        assertThat(first.answered()).isFalse();
        assertThat(second.answered()).isFalse();
        assertThat(claims.get()).as("one failed claim per arrival, no retry loop").isLessThanOrEqualTo(2);
        assertThat(th.active()).as("the token went back").isZero();
        assertThat(th.queued()).isEqualTo(2);
        table.moveTo(pod, PodState.READY, 2);
        th.updateCapacity();
        assertThat(first.pod).as("the first keeps its place").isSameAs(pod);
        assertThat(second.answered()).isFalse();
        th.release(first.pod);
        assertThat(second.pod).isSameAs(pod);
    }

    @Test
    void closingRejectsWaitersAndLaterRequestsButHonoursRunningLeases() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener running = acquire(th, FAR, p);
        RecordingListener waiting = acquire(th, FAR, p);
        th.close(Rejection.REVISION_CLOSED);
        assertThat(waiting.rejection).isEqualTo(Rejection.REVISION_CLOSED);
        assertThat(acquire(th, FAR, p).rejection).isEqualTo(Rejection.REVISION_CLOSED);
        assertThat(th.isClosed()).isTrue();
        th.release(running.pod);
        assertThat(th.active()).isZero();
        assertThat(th.queued()).isZero();
    }

    @Test
    void unlimitedConcurrencyOpensWithTheFirstRoutablePod() {
        PodTable table = new PodTable(4);
        RevisionThrottler th = throttler(table, 0, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener w = acquire(th, FAR, p);
        assertThat(w.answered()).isFalse();
        PodTracker pod = table.add("a", "h:1", PodState.READY, 0, 0);
        th.updateCapacity();
        assertThat(w.pod).isSameAs(pod);
        for (int i = 0; i < 100; i++) {
            assertThat(acquire(th, FAR, p).pod).isSameAs(pod);
        }
        assertThat(pod.inFlight()).isEqualTo(101);
    }

    @Test
    void changingContainerConcurrencyResizesPodsAndRevision() {
        PodTable table = pods(2, 1);
        RevisionThrottler th = throttler(table, 1, 10);
        th.setContainerConcurrency(3);
        assertThat(th.capacity()).isEqualTo(6);
        assertThat(table.trackerAt(0).capacity()).isEqualTo(3);
        assertThatThrownBy(() -> th.setContainerConcurrency(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(th.containerConcurrency()).isEqualTo(3);
    }

    @Test
    void releasingATokenNotHeldIsRefused() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 10);
        PodTracker pod = th.tryAcquire();
        th.release(pod);
        assertThatThrownBy(() -> th.release(pod)).isInstanceOf(IllegalStateException.class);
        assertThat(th.active()).isZero();
    }

    @Test
    void aListenerThatThrowsDoesNotLeakItsLease() {
        RevisionThrottler th = throttler(pods(1, 1), 1, 10);
        List<Pending> p = new ArrayList<>();
        RecordingListener holder = acquire(th, FAR, p);
        th.acquire(FAR, new LeaseListener() {
            @Override
            public void onLease(PodTracker pod) {
                throw new IllegalStateException("boom (expected by the test)");
            }

            @Override
            public void onReject(Rejection reason) {
            }
        });
        th.release(holder.pod);
        assertThat(th.active()).isZero();
        assertThat(holder.pod.inFlight()).isZero();
        assertThat(acquire(th, FAR, p).pod).isNotNull();
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> new RevisionThrottler(new PodTable(1), PolicyKind.RANDOM.create(), -1, 1, clock))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("containerConcurrency");
        assertThatThrownBy(() -> new RevisionThrottler(new PodTable(1), PolicyKind.RANDOM.create(), 1, -1, clock))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queue depth");
    }
}
