package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZZ_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/** Races on one pod tracker and its availability bit. */
public final class TrackerStress {

    private TrackerStress() {
    }

    static PodTable tableWith(int cc) {
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, cc, 0);
        return table;
    }

    /** Two requests race for the last slot of a cc = 1 pod: exactly one wins. */
    @JCStressTest
    @Outcome(id = {"true, false", "false, true"}, expect = ACCEPTABLE, desc = "One request holds the slot.")
    @Outcome(id = "true, true", expect = FORBIDDEN, desc = "Two requests on a cc = 1 pod.")
    @Outcome(id = "false, false", expect = FORBIDDEN, desc = "A free slot was lost.")
    @State
    public static class ReserveVsReserve {
        final PodTable table = tableWith(1);

        @Actor
        public void first(ZZ_Result r) {
            r.r1 = table.tryReserveAt(0) != null;
        }

        @Actor
        public void second(ZZ_Result r) {
            r.r2 = table.tryReserveAt(0) != null;
        }
    }

    /**
     * A request reserves while the writer drains the pod and tries to remove it. The slot is
     * never freed under a reservation, and the pod is removed exactly when nothing reserved it.
     */
    @JCStressTest
    @Outcome(id = "true, false, true", expect = ACCEPTABLE, desc = "Reserved before the drain; removal waits for it.")
    @Outcome(id = "false, true, true", expect = ACCEPTABLE, desc = "Drained first; the request found no slot and the pod is gone.")
    @Outcome(id = "true, true, .*", expect = FORBIDDEN, desc = "A slot freed under a running request.")
    @Outcome(id = "false, false, .*", expect = FORBIDDEN, desc = "Nothing in flight, yet the pod could not be removed.")
    @State
    public static class ReserveVsDrainAndRemove {
        final PodTable table = tableWith(1);
        final PodTracker pod = table.trackerAt(0);

        @Actor
        public void request(ZZZ_Result r) {
            r.r1 = pod.tryReserve();
        }

        @Actor
        public void writer(ZZZ_Result r) {
            table.moveTo(pod, PodState.DRAINING, 1);
            r.r2 = table.remove(pod, false, 1);
        }

        @Arbiter
        public void check(ZZZ_Result r) {
            r.r3 = pod.inFlight() == (r.r1 ? 1 : 0);
        }
    }

    /**
     * A release frees a full pod while another request tries to reserve it. Whatever the
     * interleaving, a pod with a free slot never ends with a clear bit (that would strand the
     * next request). A set bit on a full pod is allowed: a stale hint costs one failed CAS.
     */
    @JCStressTest
    @Outcome(id = "true, true, true", expect = ACCEPTABLE, desc = "The request got the freed slot; bit and tracker agree.")
    @Outcome(id = "true, true, false", expect = ACCEPTABLE_INTERESTING,
            desc = "The request got the slot, but the release set the bit after the reservation cleared it: a harmless stale hint.")
    @Outcome(id = "false, true, true", expect = ACCEPTABLE, desc = "The request came too early; the slot is free and its bit set.")
    @Outcome(id = ".*, false, .*", expect = FORBIDDEN, desc = "A free slot with a clear bit: the next request would be stranded.")
    @State
    public static class ReleaseVsReserveNeverStrands {
        final PodTable table = tableWith(1);
        final PodTracker pod = table.tryReserveAt(0);

        @Actor
        public void release() {
            pod.release();
        }

        @Actor
        public void reserve(ZZZ_Result r) {
            r.r1 = table.tryReserveAt(0) != null;
        }

        @Arbiter
        public void check(ZZZ_Result r) {
            boolean bit = table.availableHint(0);
            boolean available = pod.isAvailable();
            r.r2 = !available || bit;
            r.r3 = bit == available;
        }
    }

    /**
     * The last request of a pod ends while the writer starts draining it: at least one side
     * sees that the drain is complete (the release notifies, or the writer sees zero in flight),
     * so the slot is always released without polling.
     */
    @JCStressTest
    @Outcome(id = "true, false", expect = ACCEPTABLE, desc = "The release saw DRAINING and notified the writer.")
    @Outcome(id = "false, true", expect = ACCEPTABLE, desc = "The release came first; the writer saw zero in flight.")
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "Both saw it; removal is idempotent.")
    @Outcome(id = "false, false", expect = FORBIDDEN, desc = "Nobody saw the drain complete: the slot would leak.")
    @State
    public static class DrainOnLastReleaseHandOff {
        final PodTable table = tableWith(1);
        final PodTracker pod = table.tryReserveAt(0);
        final AtomicInteger notified = new AtomicInteger();

        {
            table.onDrained(t -> notified.incrementAndGet());
        }

        @Actor
        public void lastRequestEnds() {
            pod.release();
        }

        @Actor
        public void writerDrains(ZZ_Result r) {
            table.moveTo(pod, PodState.DRAINING, 1);
            r.r2 = pod.inFlight() == 0;
        }

        @Arbiter
        public void check(ZZ_Result r) {
            r.r1 = notified.get() == 1;
        }
    }
}
