package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.proxy.Route;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The new owner's accounting of the old owner's requests: held slots make the pods full for
 * this replica's own requests, and are given back (serving waiters) as the old owner reports
 * them ending, or when it goes silent.
 */
class HandoffLedgerTest {

    private static final RevisionId REV = new RevisionId("default", "gpu");
    private final ManualClock clock = new ManualClock();
    private final PodTable table = new PodTable(8);
    private final RevisionThrottler th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, 100,
            clock);
    private final Route route = new Route(null, th, null, null, null);
    private final HandoffLedger ledger = new HandoffLedger(id -> id.equals(REV) ? route : null, clock,
            Duration.ofSeconds(2));
    private final List<PodTracker> leases = new ArrayList<>();
    private final LeaseListener listener = new LeaseListener() {
        @Override
        public void onLease(PodTracker pod) {
            leases.add(pod);
        }

        @Override
        public void onReject(Rejection reason) {
            throw new AssertionError(reason);
        }
    };

    HandoffLedgerTest() {
        for (int i = 0; i < 4; i++) {
            table.add("pod-" + i, "10.0.0." + i + ":80", PodState.READY, 1, clock.nanoTime());
        }
        th.updateCapacity();
    }

    private PodTracker pod(int i) {
        return table.find("10.0.0." + i + ":80");
    }

    @Test
    void aPodNotRoutableYetIsHeldSoAWaiterCannotTakeItWhenItTurnsRoutable() {
        PodTracker fresh = table.add("pod-new", "10.0.0.9:80", PodState.PENDING, 1, clock.nanoTime());
        ledger.gained(REV, "b");
        assertThat(ledger.held(REV)).as("the four ready pods and the pending one").isEqualTo(5);
        th.acquire(clock.nanoTime() + Duration.ofSeconds(10).toNanos(), listener);

        // The pending pod passes its check: it is routable now, and full, before any tick.
        table.moveTo(fresh, PodState.READY, clock.nanoTime());
        th.updateCapacity();
        assertThat(leases).as("the waiter does not get the pod the old owner may be using").isEmpty();
        assertThat(fresh.inFlight()).isEqualTo(1);

        ledger.report("b", REV, 0, Map.of());
        assertThat(ledger.held()).isZero();
        assertThat(leases).hasSize(1);
    }

    @Test
    void aGainWithNoReportHoldsEveryPodUntilThePreviousOwnerReports() {
        ledger.gained(REV, "b");
        assertThat(ledger.held(REV)).isEqualTo(4);
        assertThat(th.tryAcquire()).as("every pod is full for this replica").isNull();
        th.acquire(clock.nanoTime() + Duration.ofSeconds(10).toNanos(), listener);
        assertThat(leases).isEmpty();

        // b still runs one request on pod 2, nothing queued: the other three are free at once.
        ledger.report("b", REV, 0, Map.of("10.0.0.2:80", 1));
        assertThat(ledger.held(REV)).isEqualTo(1);
        assertThat(leases).as("the waiter was served by the freed slots").hasSize(1);
        assertThat(leases.get(0)).isNotSameAs(pod(2));
        assertThat(pod(2).inFlight()).isEqualTo(1);

        ledger.report("b", REV, 0, Map.of());
        assertThat(ledger.held()).isZero();
        assertThat(pod(2).inFlight()).isZero();
    }

    @Test
    void whileThePreviousOwnerStillQueuesEveryPodStaysHeld() {
        ledger.report("b", REV, 3, Map.of("10.0.0.0:80", 1));
        ledger.gained(REV, "b");
        assertThat(ledger.held(REV)).isEqualTo(4);
        ledger.report("b", REV, 0, Map.of("10.0.0.0:80", 1, "10.0.0.1:80", 1));
        assertThat(ledger.held(REV)).isEqualTo(2);
        assertThat(ledger.heldOn(REV, pod(1))).isEqualTo(1);
        assertThat(ledger.heldOn(REV, pod(3))).isZero();
    }

    @Test
    void aGainAfterAFreshReportTakesTheReportAsItIs() {
        ledger.report("b", REV, 0, Map.of());
        ledger.gained(REV, "b");
        assertThat(ledger.held(REV)).as("b has already said it runs nothing").isZero();
        assertThat(th.tryAcquire()).isNotNull();
    }

    @Test
    void aSilentReplicasSlotsGoAfterTheTimeout() {
        ledger.gained(REV, "b");
        clock.advance(Duration.ofMillis(2000));
        ledger.tick();
        assertThat(ledger.held(REV)).isEqualTo(4);
        clock.advance(Duration.ofMillis(1));
        ledger.tick();
        assertThat(ledger.held()).isZero();
        assertThat(table.trackers()).allSatisfy(t -> assertThat(t.inFlight()).isZero());
    }

    @Test
    void aSlotThatIsBusyNowIsTakenWhenItFrees() {
        PodTracker own = th.tryAcquire(); // this replica's own request on pod 0 (first available)
        assertThat(own).isSameAs(pod(0));
        ledger.report("b", REV, 0, Map.of("10.0.0.0:80", 1));
        assertThat(ledger.held(REV)).as("pod 0 is full: nothing to hold yet").isZero();
        th.release(own);
        ledger.tick();
        assertThat(ledger.heldOn(REV, pod(0))).isEqualTo(1);
    }

    @Test
    void aReplacedPodsSlotGoesBackToItsOwnTracker() {
        ledger.report("b", REV, 0, Map.of("10.0.0.3:80", 1));
        PodTracker old = pod(3);
        assertThat(old.inFlight()).isEqualTo(1);
        table.moveTo(old, PodState.DRAINING, clock.nanoTime());
        table.remove(old, true, clock.nanoTime());
        table.add("pod-3b", "10.0.0.3:80", PodState.READY, 1, clock.nanoTime());
        th.updateCapacity();
        ledger.tick();
        assertThat(old.inFlight()).isZero();
        assertThat(pod(3).inFlight()).as("the report names the address: the new pod is held").isEqualTo(1);
    }

    @Test
    void aStartUpHoldCountsItsTimeoutFromWhenTheReplicaServes() {
        ledger.gained(REV, "b"); // the first view, before the others can see this replica
        clock.advance(Duration.ofMillis(1500));
        ledger.restartUnreported(); // ready: the others find it live only from now
        clock.advance(Duration.ofMillis(1500));
        ledger.tick();
        assertThat(ledger.held(REV)).as("b has not had the timeout to notice and report since").isEqualTo(4);
        clock.advance(Duration.ofMillis(501));
        ledger.tick();
        assertThat(ledger.held()).isZero();
    }

    @Test
    void aReportedHoldKeepsItsOwnClockWhenTheReplicaStartsServing() {
        ledger.report("b", REV, 0, Map.of("10.0.0.1:80", 1));
        clock.advance(Duration.ofMillis(1500));
        ledger.restartUnreported();
        clock.advance(Duration.ofMillis(501));
        ledger.tick();
        assertThat(ledger.held()).as("b reported, then went silent for longer than the timeout").isZero();
    }
}
