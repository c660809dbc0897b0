package dev.sluice.core.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.ManualClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Classes, tenants, caps and preemption in the revision's queue: one pod with cc = 1, served one by one. */
class PriorityQueueingTest {

    private static final long FAR = Long.MAX_VALUE / 2;

    private final ManualClock clock = new ManualClock();
    private final RevisionThrottler th;
    private final List<String> served = new ArrayList<>();
    private PodTracker held;

    PriorityQueueingTest() {
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, 1, 0);
        th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, 100, clock);
        th.updateCapacity();
        held = th.tryAcquire();
    }

    /** A request that records its name when it gets the pod and then holds it. */
    private final class Named implements LeaseListener {
        final String name;
        final RecordingListener outcome = new RecordingListener();
        Pending pending;

        Named(String name) {
            this.name = name;
        }

        @Override
        public void onLease(PodTracker pod) {
            outcome.onLease(pod);
            served.add(name);
            held = pod;
        }

        @Override
        public void onReject(Rejection reason) {
            outcome.onReject(reason);
        }

        Rejection rejection() {
            return outcome.rejection;
        }

        boolean answered() {
            return outcome.answered();
        }
    }

    private Named arrive(String name, int cls, String tenant) {
        return arrive(name, cls, tenant, FAR);
    }

    private Named arrive(String name, int cls, String tenant, long deadline) {
        Named n = new Named(name);
        n.pending = th.acquire(deadline, n, cls, tenant);
        return n;
    }

    /** Ends the running request {@code n} times; each hand-off serves the queue's next choice. */
    private void serve(int n) {
        for (int i = 0; i < n; i++) {
            PodTracker p = held;
            held = null;
            th.release(p);
        }
    }

    @Test
    void theHighestClassWithWaitersIsServedFirstAndEachClassIsFifo() {
        arrive("b1", 2, null);
        arrive("b2", 2, null);
        arrive("n1", 1, null);
        arrive("i1", 0, null);
        arrive("n2", 1, null);
        arrive("i2", 0, null);
        serve(6);
        assertThat(served).containsExactly("i1", "i2", "n1", "n2", "b1", "b2");
        assertThat(th.queued()).isZero();
    }

    @Test
    void equalWeightsAlternateTenantsWhateverTheirArrivalRates() {
        for (int i = 0; i < 6; i++) {
            arrive("a" + i, 0, "a");
        }
        arrive("b0", 0, "b");
        arrive("b1", 0, "b");
        serve(8);
        assertThat(served).containsExactly("a0", "b0", "a1", "b1", "a2", "a3", "a4", "a5");
    }

    @Test
    void weightsThreeToOneServeThreeToOne() {
        th.setQueuePolicy(new QueuePolicy(Integer.MAX_VALUE, false, Map.of("gold", 3), 1));
        for (int i = 0; i < 8; i++) {
            arrive("s" + i, 0, "silver");
            arrive("g" + i, 0, "gold");
        }
        serve(8);
        assertThat(served).containsExactly("s0", "g0", "g1", "g2", "s1", "g3", "g4", "g5");
    }

    @Test
    void aTenantAtItsCapIsRefusedWhileAnotherStillQueues() {
        th.setQueuePolicy(new QueuePolicy(2, false, Map.of(), 1));
        arrive("a0", 0, "a");
        arrive("a1", 1, "a");
        Named a2 = arrive("a2", 0, "a");
        Named b0 = arrive("b0", 0, "b");
        assertThat(a2.rejection()).isEqualTo(Rejection.TENANT_QUEUE_FULL);
        assertThat(a2.pending).isSameAs(Pending.NONE);
        assertThat(b0.answered()).isFalse();
        assertThat(th.queued()).isEqualTo(3);
        serve(1);
        Named a3 = arrive("a3", 0, "a");
        assertThat(a3.answered()).as("a tenant below its cap again queues").isFalse();
    }

    @Test
    void aHigherClassAtAFullQueueEvictsTheNewestWaiterOfTheLowestClass() {
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, 1, 0);
        RevisionThrottler small = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, 3, clock);
        small.updateCapacity();
        small.setQueuePolicy(new QueuePolicy(Integer.MAX_VALUE, true, Map.of(), 1));
        PodTracker first = small.tryAcquire();
        RecordingListener mid = new RecordingListener();
        RecordingListener old = new RecordingListener();
        RecordingListener newest = new RecordingListener();
        small.acquire(FAR, old, 2, null);
        Pending newestPending = small.acquire(FAR, newest, 2, null);
        small.acquire(FAR, mid, 1, null);
        RecordingListener sameClass = new RecordingListener();
        assertThat(small.acquire(FAR, sameClass, 2, null)).isSameAs(Pending.NONE);
        assertThat(sameClass.rejection).as("nothing lower to evict").isEqualTo(Rejection.QUEUE_FULL);
        RecordingListener urgent = new RecordingListener();
        Pending p = small.acquire(FAR, urgent, 0, null);
        assertThat(p).isNotSameAs(Pending.NONE);
        assertThat(newest.rejection).isEqualTo(Rejection.PREEMPTED);
        assertThat(old.answered()).isFalse();
        assertThat(small.queued()).isEqualTo(3);
        assertThat(small.queuedIn(2)).isEqualTo(1);
        small.release(first);
        assertThat(urgent.pod).isNotNull();
        assertThat(newestPending.cancel()).as("an evicted waiter is no longer queued").isFalse();
    }

    @Test
    void withoutPreemptionAFullQueueRefusesEveryClass() {
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, 1, 0);
        RevisionThrottler small = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, 1, clock);
        small.updateCapacity();
        small.tryAcquire();
        RecordingListener low = new RecordingListener();
        small.acquire(FAR, low, 3, null);
        RecordingListener high = new RecordingListener();
        small.acquire(FAR, high, 0, null);
        assertThat(high.rejection).isEqualTo(Rejection.QUEUE_FULL);
        assertThat(low.answered()).isFalse();
    }

    @Test
    void cancelledAndExpiredWaitersLeaveWithoutSpendingTheirTenantsTurn() {
        Named a0 = arrive("a0", 0, "a");
        arrive("b0", 0, "b");
        Named c0 = arrive("c0", 0, "c", clock.nanoTime() + Duration.ofSeconds(1).toNanos());
        arrive("a1", 0, "a");
        assertThat(a0.pending.cancel()).isTrue();
        clock.advance(Duration.ofSeconds(2));
        assertThat(th.expireOverdue()).isEqualTo(1);
        assertThat(c0.rejection()).isEqualTo(Rejection.QUEUE_TIMEOUT);
        serve(2);
        // a0 left without being served, so tenant a's turn still stands: a1, then b0.
        assertThat(served).containsExactly("a1", "b0");
        assertThat(th.queued()).isZero();
        assertThat(th.active()).isEqualTo(1);
        serve(1);
        assertThat(th.active()).isZero();
        assertThat(held).isNull();
    }

    @Test
    void queuedInCountsEachClass() {
        arrive("x", 0, null);
        arrive("y", 3, "t");
        arrive("z", 3, "u");
        assertThat(th.queuedIn(0)).isEqualTo(1);
        assertThat(th.queuedIn(3)).isEqualTo(2);
        assertThat(th.queuedIn(1)).isZero();
        assertThat(th.queued()).isEqualTo(3);
    }

    @Test
    void aClassOutsideTheRangeIsAProgrammingError() {
        assertThatThrownBy(() -> th.acquire(FAR, new RecordingListener(), QueuePolicy.MAX_CLASSES, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new QueuePolicy(0, false, Map.of(), 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new QueuePolicy(1, false, Map.of("t", 0), 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
