package dev.sluice.kubernetes;

import static dev.sluice.kubernetes.MockCluster.endpoint;
import static dev.sluice.kubernetes.MockCluster.ready;
import static dev.sluice.kubernetes.MockCluster.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ControlMetrics;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.core.control.RevisionSettings;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.RevisionThrottler;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * EndpointSlices in the mock API server (CRUD mode) move pods through the control path: a real
 * StateManager per Sluice instance, a real informer per Service.
 */
class EndpointSliceDiscoveryIT {

    private static final RevisionId REV = new RevisionId("ns", "fn-00001");
    private static final ServiceRef SERVICE = new ServiceRef("ns", "fn", "http");

    private final MockCluster cluster = new MockCluster();
    private final KubernetesClient admin = cluster.newClient();

    /** One Sluice instance: a control path and its discovery. */
    private final class Instance implements AutoCloseable {
        final StateManager control = new StateManager(1, NanoClock.system(), ReadinessCheck.ALWAYS_READY,
                ControlMetrics.NONE);
        final RevisionThrottler throttler = control.open(REV, RevisionSettings.defaults(1));
        final KubernetesDiscovery discovery = KubernetesDiscovery.feeding(cluster.newClient(), control, (id, appProtocol) -> { });

        Instance() {
            discovery.watch(REV, SERVICE);
        }

        /** address → "podId state", what this instance would route by. */
        Map<String, String> pods() {
            control.flush(REV).join();
            Map<String, String> out = new TreeMap<>();
            for (PodTracker t : throttler.table().trackers()) {
                out.put(t.address(), t.podId() + " " + t.state().wireName());
            }
            return out;
        }

        @Override
        public void close() {
            discovery.close();
            control.close();
        }
    }

    private Instance sluice;

    @AfterEach
    void tearDown() {
        if (sluice != null) {
            sluice.close();
        }
        cluster.close();
    }

    private void put(EndpointSlice s) {
        admin.resource(s).serverSideApply();
    }

    private void replace(EndpointSlice s) {
        admin.resource(s).update();
    }

    @Test
    void slicesCreatedUpdatedAndDeletedMovePodsThroughTheirStates() {
        sluice = new Instance();
        await().until(() -> sluice.discovery.status().get(0).synced());
        assertThat(sluice.pods()).isEmpty();

        admin.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-1"),
                endpoint("10.0.0.2", "uid-2", false, false, false))).create();
        await().untilAsserted(() -> assertThat(sluice.pods()).containsExactly(
                Map.entry("10.0.0.1:8080", "uid-1 ready"), Map.entry("10.0.0.2:8080", "uid-2 not-ready")));

        replace(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2")));
        await().untilAsserted(() -> assertThat(sluice.pods()).containsEntry("10.0.0.2:8080", "uid-2 ready"));

        // A second slice of the same Service adds to the view; it does not replace it.
        admin.resource(slice("fn", "fn-b", "IPv4", 8080, ready("10.0.0.3", "uid-3"))).create();
        await().untilAsserted(() -> assertThat(sluice.pods()).containsOnlyKeys("10.0.0.1:8080", "10.0.0.2:8080",
                "10.0.0.3:8080"));

        // Another Service's slice in the same namespace is not this revision's.
        admin.resource(slice("other", "other-a", "IPv4", 8080, ready("10.0.9.9", "uid-9"))).create();

        admin.resource(slice("fn", "fn-a", "IPv4", 8080)).delete();
        await().untilAsserted(() -> assertThat(sluice.pods()).containsOnlyKeys("10.0.0.3:8080"));
        assertThat(sluice.throttler.capacity()).isEqualTo(1);
    }

    @Test
    void aTerminatingEndpointDrainsAndTakesNoNewRequests() {
        sluice = new Instance();
        admin.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2")))
                .create();
        await().untilAsserted(() -> assertThat(sluice.throttler.capacity()).isEqualTo(2));
        // A request in flight on uid-1 keeps its tracker while it drains.
        PodTracker lease = sluice.throttler.tryAcquire();
        assertThat(lease).isNotNull();
        String busy = lease.address();
        String idle = busy.equals("10.0.0.1:8080") ? "10.0.0.2:8080" : "10.0.0.1:8080";
        String busyUid = busy.equals("10.0.0.1:8080") ? "uid-1" : "uid-2";
        String idleUid = busyUid.equals("uid-1") ? "uid-2" : "uid-1";

        replace(slice("fn", "fn-a", "IPv4", 8080, endpoint(busy.replace(":8080", ""), busyUid, false, true, true),
                ready(idle.replace(":8080", ""), idleUid)));
        await().untilAsserted(() -> assertThat(sluice.pods()).containsEntry(busy, busyUid + " draining"));
        for (int i = 0; i < 20; i++) {
            PodTracker l = sluice.throttler.tryAcquire();
            assertThat(l).isNotNull();
            assertThat(l.address()).isEqualTo(idle);
            sluice.throttler.release(l);
        }
        sluice.throttler.release(lease);
        await().untilAsserted(() -> assertThat(sluice.pods()).doesNotContainKey(busy));
    }

    @Test
    void aReusedIpWithANewPodUidIsANewPod() {
        sluice = new Instance();
        admin.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-old"))).create();
        await().untilAsserted(() -> assertThat(sluice.pods()).containsExactly(Map.entry("10.0.0.1:8080", "uid-old ready")));
        var oldTracker = sluice.throttler.table().trackers().iterator().next();

        replace(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-new")));
        await().untilAsserted(() -> assertThat(sluice.pods()).containsExactly(Map.entry("10.0.0.1:8080", "uid-new ready")));
        PodTracker now = sluice.throttler.table().trackers().iterator().next();
        assertThat(now).isNotSameAs(oldTracker);
        assertThat(oldTracker.state().isRoutable()).isFalse();
    }

    @Test
    void dualStackSlicesGiveOnePodPerPodNotTwo() {
        sluice = new Instance();
        admin.resource(slice("fn", "fn-v4", "IPv4", 8080, ready("10.0.0.1", "uid-1"))).create();
        admin.resource(slice("fn", "fn-v6", "IPv6", 8080, ready("fd00::1", "uid-1"))).create();
        await().untilAsserted(() -> assertThat(sluice.discovery.view(REV).owners().get("uid-1")).hasSize(2));
        assertThat(sluice.pods()).containsExactly(Map.entry("10.0.0.1:8080", "uid-1 ready"));
        assertThat(sluice.throttler.capacity()).isEqualTo(1);
    }

    @Test
    void aBrokenWatchIsReestablishedAndTheViewConverges() {
        sluice = new Instance();
        admin.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-1"))).create();
        await().untilAsserted(() -> assertThat(sluice.pods()).containsOnlyKeys("10.0.0.1:8080"));

        cluster.stop();
        await().atMost(Duration.ofSeconds(20)).until(() -> !sluice.discovery.status().get(0).watching());
        // The last known view stays in force while the API server is away.
        assertThat(sluice.pods()).containsExactly(Map.entry("10.0.0.1:8080", "uid-1 ready"));
        assertThat(sluice.throttler.capacity()).isEqualTo(1);

        cluster.restart();
        replace(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2")));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(sluice.discovery.status().get(0).watching()).isTrue();
            assertThat(sluice.pods()).containsOnlyKeys("10.0.0.1:8080", "10.0.0.2:8080");
        });
        assertThat(sluice.discovery.status().get(0).failures()).isPositive();
    }

    @Test
    void twoSluiceInstancesWatchingOneServiceConvergeToTheSameView() {
        sluice = new Instance();
        try (Instance second = new Instance()) {
            admin.resource(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.1", "uid-1"),
                    endpoint("10.0.0.2", "uid-2", false, false, false))).create();
            admin.resource(slice("fn", "fn-b", "IPv4", 8080, ready("10.0.0.3", "uid-3"))).create();
            replace(slice("fn", "fn-a", "IPv4", 8080, ready("10.0.0.2", "uid-2"),
                    endpoint("10.0.0.1", "uid-1", false, true, true)));
            admin.resource(slice("fn", "fn-c", "IPv4", 8080, ready("10.0.0.4", "uid-4"))).create();
            admin.resource(slice("fn", "fn-b", "IPv4", 8080)).delete();
            Map<String, String> expected = Map.of("10.0.0.2:8080", "uid-2 ready", "10.0.0.4:8080", "uid-4 ready");
            await().untilAsserted(() -> {
                assertThat(sluice.pods()).isEqualTo(expected);
                assertThat(second.pods()).isEqualTo(expected);
            });
        }
    }
}
