package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.core.ManualClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Pending;
import dev.sluice.core.throttle.QueuePolicy;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.time.Duration;
import java.util.Map;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.ZZZ_Result;

/**
 * Races on a revision's queue of classes and tenants: a release against a higher-class
 * arrival, a preemption, a cancel in another tenant's lane, and the expiry sweep. Each checks
 * that no wake-up is lost (a pod is never idle while someone waits) and that no token or slot
 * leaks, whoever wins.
 */
public final class PriorityQueueStress {

    private PriorityQueueStress() {
    }

    private static final long FAR = Long.MAX_VALUE / 2;

    /** One pod, cc = 1, its slot held by a first request; a queue of {@code depth}. */
    static RevisionThrottler fullRevision(int depth, boolean preemption, ManualClock clock) {
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, 1, 0);
        RevisionThrottler th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, depth, clock);
        th.updateCapacity();
        th.setQueuePolicy(new QueuePolicy(Integer.MAX_VALUE, preemption, Map.of(), 1));
        return th;
    }

    static final class Outcome1 implements LeaseListener {
        volatile PodTracker pod;
        volatile Rejection rejection;

        @Override
        public void onLease(PodTracker pod) {
            this.pod = pod;
        }

        @Override
        public void onReject(Rejection reason) {
            this.rejection = reason;
        }

        /** 1 served, 2 waiting, 3 preempted, 4 timed out, 0 anything else. */
        int code() {
            if (pod != null) {
                return rejection == null ? 1 : 0;
            }
            if (rejection == null) {
                return 2;
            }
            return rejection == Rejection.PREEMPTED ? 3 : rejection == Rejection.QUEUE_TIMEOUT ? 4 : 0;
        }
    }

    /**
     * The running request ends while an interactive request arrives behind a batch waiter:
     * whichever is first, the pod goes to one of them and the other waits; never both, never
     * neither.
     */
    @JCStressTest
    @Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "The release came first: the batch waiter got the pod.")
    @Outcome(id = "2, 1, 1", expect = ACCEPTABLE, desc = "The interactive request queued first and got the pod.")
    @Outcome(id = "2, 2, .*", expect = FORBIDDEN, desc = "Both wait while the pod is free: a lost wake-up.")
    @Outcome(id = ".*, .*, 0", expect = FORBIDDEN, desc = "Counts disagree with the leases held: a leak.")
    @State
    public static class ReleaseVsHigherClassArrival {
        final RevisionThrottler th = fullRevision(16, false, new ManualClock());
        final PodTracker first = th.tryAcquire();
        final Outcome1 batch = new Outcome1();
        final Pending batchWaits = th.acquire(FAR, batch, 1, "batch");
        final Outcome1 interactive = new Outcome1();

        @Actor
        public void firstEnds() {
            th.release(first);
        }

        @Actor
        public void interactiveArrives() {
            th.acquire(FAR, interactive, 0, "web");
        }

        @Arbiter
        public void check(III_Result r) {
            r.r1 = batch.code();
            r.r2 = interactive.code();
            r.r3 = th.active() == 1 && th.queued() == 1 && first.inFlight() == 1 ? 1 : 0;
        }
    }

    /**
     * A full queue of one: a higher-class request evicts the batch waiter while the running
     * request ends. Either the release came first (the batch waiter holds the pod, the newcomer
     * waits in the emptied queue) or the eviction did (the batch waiter is answered preempted,
     * the newcomer gets the pod); an evicted waiter is never also served, and nothing leaks.
     */
    @JCStressTest
    @Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "Release first: the batch waiter served, the newcomer queued.")
    @Outcome(id = "3, 1, 1", expect = ACCEPTABLE, desc = "Eviction first: batch preempted, the newcomer served.")
    @Outcome(id = "3, 2, .*", expect = FORBIDDEN, desc = "The newcomer waits while the pod is free: a lost wake-up.")
    @Outcome(id = ".*, .*, 0", expect = FORBIDDEN, desc = "Counts disagree with the leases held: a leak.")
    @State
    public static class PreemptionVsRelease {
        final RevisionThrottler th = fullRevision(1, true, new ManualClock());
        final PodTracker first = th.tryAcquire();
        final Outcome1 batch = new Outcome1();
        final Pending batchWaits = th.acquire(FAR, batch, 1, "batch");
        final Outcome1 urgent = new Outcome1();

        @Actor
        public void firstEnds() {
            th.release(first);
        }

        @Actor
        public void urgentArrives() {
            th.acquire(FAR, urgent, 0, "web");
        }

        @Arbiter
        public void check(III_Result r) {
            r.r1 = batch.code();
            r.r2 = urgent.code();
            int held = (batch.pod != null ? 1 : 0) + (urgent.pod != null ? 1 : 0);
            int waiting = (batch.code() == 2 ? 1 : 0) + (urgent.code() == 2 ? 1 : 0);
            r.r3 = th.active() == held && held == 1 && th.queued() == waiting && first.inFlight() == held ? 1 : 0;
        }
    }

    /**
     * Two tenants wait; tenant a's client goes away as the running request ends. Either the
     * cancel wins (b gets the pod) or a was served first (its cancel fails, it holds the pod,
     * b waits); never a leaked token, never a cancelled waiter served.
     */
    @JCStressTest
    @Outcome(id = "true, false, true", expect = ACCEPTABLE, desc = "Cancelled in time; tenant b holds the pod.")
    @Outcome(id = "false, true, true", expect = ACCEPTABLE, desc = "Tenant a was served first and holds the pod.")
    @Outcome(id = ".*, .*, false", expect = FORBIDDEN, desc = "Counts disagree with the leases held: a leak.")
    @Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "A cancelled waiter was also given a pod.")
    @Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "Neither cancelled nor served.")
    @State
    public static class CancelInOneTenantVsRelease {
        final RevisionThrottler th = fullRevision(16, false, new ManualClock());
        final PodTracker first = th.tryAcquire();
        final Outcome1 a = new Outcome1();
        final Pending aWaits = th.acquire(FAR, a, 0, "a");
        final Outcome1 b = new Outcome1();
        final Pending bWaits = th.acquire(FAR, b, 0, "b");

        @Actor
        public void firstEnds() {
            th.release(first);
        }

        @Actor
        public void aGoesAway(ZZZ_Result r) {
            r.r1 = aWaits.cancel();
        }

        @Arbiter
        public void check(ZZZ_Result r) {
            r.r2 = a.pod != null;
            boolean bServed = b.pod != null;
            boolean exact = r.r1 ? bServed && th.queued() == 0 : !bServed && th.queued() == 1;
            r.r3 = exact && th.active() == 1 && first.inFlight() == 1;
        }
    }

    /**
     * The sweep expires tenant a's overdue waiter as the running request ends: a is answered
     * queue-timeout either way (the hand-off skips an overdue head too), b gets the pod, and
     * the counts are exact.
     */
    @JCStressTest
    @Outcome(id = "4, 1, 1", expect = ACCEPTABLE, desc = "a timed out, b holds the pod, counts exact.")
    @Outcome(id = "1, .*, .*", expect = FORBIDDEN, desc = "An overdue waiter was served.")
    @Outcome(id = ".*, 2, .*", expect = FORBIDDEN, desc = "b waits while the pod is free: a lost wake-up.")
    @Outcome(id = ".*, .*, 0", expect = FORBIDDEN, desc = "Counts disagree with the leases held: a leak.")
    @State
    public static class ExpiryVsRelease {
        final ManualClock clock = new ManualClock();
        final RevisionThrottler th = fullRevision(16, false, clock);
        final PodTracker first = th.tryAcquire();
        final Outcome1 a = new Outcome1();
        final Pending aWaits = th.acquire(clock.nanoTime() + 10, a, 0, "a");
        final Outcome1 b = new Outcome1();
        final Pending bWaits = th.acquire(FAR, b, 0, "b");
        final long advanced = clock.advance(Duration.ofNanos(10));

        @Actor
        public void firstEnds() {
            th.release(first);
        }

        @Actor
        public void sweep() {
            th.expireOverdue();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r1 = a.code();
            r.r2 = b.code();
            r.r3 = th.active() == 1 && th.queued() == 0 && first.inFlight() == 1 ? 1 : 0;
        }
    }
}
