package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.RouteOwner;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ownership table and both sides of a handoff, on one replica: who serves each revision, the
 * slots held when it gains one, and what it reports when it loses one.
 */
class OwnershipTest {

    private final ManualClock clock = new ManualClock();
    private final Peer a = new Peer("a", "127.0.0.1:1", "127.0.0.1:2");
    private final Map<RevisionId, Route> routes = new HashMap<>();
    private final HandoffLedger ledger = new HandoffLedger(routes::get, clock, Duration.ofSeconds(2));
    private final Ownership ownership = new Ownership("a", ledger,
            new ClusterMetrics(new PrometheusRegistry(), ledger::held, () -> 0), clock, 0);
    private final HandoffReporter reporter = new HandoffReporter(ownership, ledger, clock,
            Duration.ofSeconds(2).toNanos());
    private final Route limited;
    private final Route free;

    OwnershipTest() throws Exception {
        List<RevisionConfig> rcs = ConfigLoader.parse("t.yaml", """
                revisions:
                  - {name: gpu, containerConcurrency: 1}
                  - {name: web}
                """).revisions();
        limited = route(rcs.get(0));
        free = route(rcs.get(1));
        ownership.routesPublished(List.of(limited, free));
    }

    private Route route(RevisionConfig rc) {
        PodTable table = new PodTable(8);
        for (int i = 0; i < 3; i++) {
            table.add("p" + i, "10.0.0." + i + ":80", PodState.READY, rc.containerConcurrency(), clock.nanoTime());
        }
        RevisionThrottler th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(),
                rc.containerConcurrency(), 100, clock);
        th.updateCapacity();
        Route r = new Route(rc, th, null, null, new RouteOwner());
        routes.put(rc.id(), r);
        return r;
    }

    /** A view in which b owns gpu (found, not assumed: the hash decides). */
    private List<Peer> viewWhereBOwnsIt() {
        for (int i = 0; i < 1000; i++) {
            Peer other = new Peer("b" + i, "127.0.0.1:" + (5000 + i), "127.0.0.1:" + (6000 + i));
            if (OwnerFunction.owner("default/gpu", List.of(a, other)).equals(other)) {
                return List.of(a, other);
            }
        }
        throw new AssertionError("no such replica id in 1000");
    }

    @Test
    void aLimitedRevisionGoesToItsOwnerAndAnUnlimitedOneStaysHere() {
        assertThat(limited.owner().ownerId()).as("no view yet: owner unknown, served here").isNull();
        assertThat(limited.owner().forwardTo()).isNull();
        List<Peer> view = viewWhereBOwnsIt();
        Peer owner = view.get(1);
        ownership.viewChanged(view);
        assertThat(limited.owner().forwardTo()).isEqualTo(owner.address());
        assertThat(limited.owner().ownerId()).isEqualTo(owner.id());
        assertThat(free.owner().forwardTo()).as("cc 0: nothing to share").isNull();
        ownership.viewChanged(List.of(a));
        assertThat(limited.owner().forwardTo()).isNull();
        assertThat(limited.owner().ownerId()).isEqualTo("a");
    }

    @Test
    void gainingHoldsEveryPodForThePreviousOwnerUntilItReports() {
        List<Peer> view = viewWhereBOwnsIt();
        ownership.viewChanged(view);
        ownership.viewChanged(List.of(a)); // the owner left: a gains gpu
        assertThat(ledger.held(limited.config().id())).isEqualTo(3);
        assertThat(limited.throttler().tryAcquire()).isNull();
        ledger.report(view.get(1).id(), limited.config().id(), 0, Map.of("10.0.0.1:80", 1));
        assertThat(ledger.held(limited.config().id())).isEqualTo(1);
        assertThat(limited.throttler().tryAcquire()).isNotNull();
    }

    @Test
    void losingReportsWhatIsStillRunningThenZerosThenNothing() {
        ownership.viewChanged(List.of(a));
        List<PodTracker> mine = new ArrayList<>();
        mine.add(limited.throttler().tryAcquire());
        mine.add(limited.throttler().tryAcquire());
        List<Peer> view = viewWhereBOwnsIt();
        ownership.viewChanged(view); // a loses gpu with two requests on pods
        Map<String, List<HandoffReporter.Line>> r = reporter.reports();
        assertThat(r).containsOnlyKeys(view.get(1).id());
        HandoffReporter.Line line = r.get(view.get(1).id()).get(0);
        assertThat(line.revision()).isEqualTo(limited.config().id());
        assertThat(line.queued()).isZero();
        assertThat(line.pods()).containsOnlyKeys(mine.get(0).address(), mine.get(1).address());
        mine.forEach(limited.throttler()::release);
        assertThat(reporter.reports().get(view.get(1).id()).get(0).pods()).as("zeros while recent").isEmpty();
        clock.advance(Duration.ofSeconds(3));
        reporter.reports();
        assertThat(reporter.reports()).as("an idle revision lost long ago is not reported").isEmpty();
    }

    @Test
    void slotsHeldForOthersAreNotReportedAsOwnRequests() {
        List<Peer> view = viewWhereBOwnsIt();
        ownership.viewChanged(view);
        ledger.report("c", limited.config().id(), 0, Map.of("10.0.0.2:80", 1));
        assertThat(limited.throttler().table().find("10.0.0.2:80").inFlight()).isEqualTo(1);
        assertThat(reporter.reports()).as("a never owned it, and the one slot in use is c's, not a's").isEmpty();
    }
}
