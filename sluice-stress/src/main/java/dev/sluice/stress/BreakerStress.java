package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.core.NanoClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Pending;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/** Races on a revision's breaker: acquire, release and cancel. */
public final class BreakerStress {

    private BreakerStress() {
    }

    private static final long FAR = Long.MAX_VALUE / 2;

    /** One pod, cc = 1, its slot held by a first request. */
    static RevisionThrottler fullRevision() {
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, 1, 0);
        RevisionThrottler th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, 16,
                NanoClock.system());
        th.updateCapacity();
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
    }

    /**
     * The running request ends while a new one arrives: the newcomer always ends up with the
     * pod — taken directly or handed over — and no token or slot is lost or doubled.
     */
    @JCStressTest
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "The newcomer holds the pod; counts are exact.")
    @Outcome(id = "false, .*", expect = FORBIDDEN, desc = "The newcomer waits while the pod is free: a lost wake-up.")
    @Outcome(id = "true, false", expect = FORBIDDEN, desc = "A token or slot was lost or doubled.")
    @State
    public static class ReleaseVsAcquire {
        final RevisionThrottler th = fullRevision();
        final PodTracker first = th.tryAcquire();
        final Outcome1 newcomer = new Outcome1();

        @Actor
        public void firstEnds() {
            th.release(first);
        }

        @Actor
        public void newcomerArrives() {
            th.acquire(FAR, newcomer);
        }

        @Arbiter
        public void check(ZZ_Result r) {
            r.r1 = newcomer.pod != null;
            r.r2 = th.active() == 1 && th.queued() == 0 && first.inFlight() == 1;
        }
    }

    /**
     * A waiter is cancelled (its client went away) while the running request ends. Either the
     * cancel wins and nothing is held, or the waiter got the pod first and holds it; never a
     * leaked token.
     */
    @JCStressTest
    @Outcome(id = "true, false, true", expect = ACCEPTABLE, desc = "Cancelled in time; everything is free.")
    @Outcome(id = "false, true, true", expect = ACCEPTABLE, desc = "The waiter got the pod first; it holds the lease.")
    @Outcome(id = ".*, .*, false", expect = FORBIDDEN, desc = "Counts disagree with the leases held: a leak.")
    @Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "A cancelled waiter was also given a pod.")
    @Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "Neither cancelled nor served.")
    @State
    public static class CancelVsRelease {
        final RevisionThrottler th = fullRevision();
        final PodTracker first = th.tryAcquire();
        final Outcome1 waiter = new Outcome1();
        final Pending pending = th.acquire(FAR, waiter);

        @Actor
        public void firstEnds() {
            th.release(first);
        }

        @Actor
        public void clientGoesAway(ZZZ_Result r) {
            r.r1 = pending.cancel();
        }

        @Arbiter
        public void check(ZZZ_Result r) {
            r.r2 = waiter.pod != null;
            int held = r.r2 ? 1 : 0;
            r.r3 = th.active() == held && th.queued() == 0 && first.inFlight() == held;
        }
    }
}
