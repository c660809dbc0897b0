package dev.sluice.kubernetes;

import static dev.sluice.kubernetes.MockCluster.endpoint;
import static dev.sluice.kubernetes.MockCluster.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control Service's EndpointSlices in the fabric8 mock API server (CRUD mode) become the
 * set of live Sluice replicas, delivered whole to the callback on every change.
 */
class PeerWatchIT {

    private static final ServiceRef CONTROL = new ServiceRef("ns", "sluice-control", "control");

    private final MockCluster cluster = new MockCluster();
    private final KubernetesClient admin = cluster.newClient();
    private final List<Set<Peer>> delivered = new CopyOnWriteArrayList<>();
    private PeerWatch watch;

    /** A slice of {@code service} with the control port (8081) and, as Sluice's Service has, a proxy port. */
    private static EndpointSlice slice(String service, String name, String addressType, Endpoint... endpoints) {
        return new EndpointSliceBuilder().withNewMetadata().withNamespace("ns").withName(name)
                .addToLabels(ServiceWatch.SERVICE_NAME_LABEL, service).endMetadata().withAddressType(addressType)
                .addNewPort().withName("proxy").withPort(8080).withProtocol("TCP").endPort()
                .addNewPort().withName("control").withPort(8081).withProtocol("TCP").endPort()
                .withEndpoints(endpoints).build();
    }

    private static Peer peer(String uid, String ip) {
        return new Peer(uid, ip, 8080, 8081);
    }

    /** The last snapshot delivered, once the first list has been. */
    private Set<Peer> last() {
        assertThat(delivered).isNotEmpty();
        return delivered.get(delivered.size() - 1);
    }

    @BeforeEach
    void start() {
        watch = new PeerWatch(cluster.newClient(), CONTROL, "proxy", delivered::add);
        watch.start();
        await().atMost(Duration.ofSeconds(30)).until(watch::synced);
        await().untilAsserted(() -> assertThat(delivered).containsExactly(Set.of()));
    }

    @AfterEach
    void stop() {
        watch.close();
        cluster.close();
    }

    @Test
    void threeReplicasAppearAsThreePeersAndOneTurningNotReadyLeavesTwo() {
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2"),
                ready("10.0.0.3", "uid-3"))).create();
        await().untilAsserted(() -> assertThat(last()).containsExactlyInAnyOrder(peer("uid-1", "10.0.0.1"),
                peer("uid-2", "10.0.0.2"), peer("uid-3", "10.0.0.3")));
        assertThat(watch.peers()).isEqualTo(last());

        // uid-2 fails /readyz: not ready, not serving.
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"),
                endpoint("10.0.0.2", "uid-2", false, false, false), ready("10.0.0.3", "uid-3"))).update();
        await().untilAsserted(() -> assertThat(last()).containsExactlyInAnyOrder(peer("uid-1", "10.0.0.1"),
                peer("uid-3", "10.0.0.3")));

        // It comes back.
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2"),
                ready("10.0.0.3", "uid-3"))).update();
        await().untilAsserted(() -> assertThat(last()).hasSize(3));
    }

    @Test
    void aTerminatingReplicaOrOneOnlyServingSaysNotReadyIsNoPeer() {
        // publishNotReadyAddresses: the controller says ready=true for every pod; serving is the pod's readiness.
        admin.resource(slice("sluice-control", "sc-a", "IPv4", endpoint("10.0.0.1", "uid-1", true, false, false),
                endpoint("10.0.0.2", "uid-2", false, true, true), endpoint("10.0.0.3", "uid-3", true, true, true),
                endpoint("10.0.0.4", "uid-4", true, true, false), endpoint("10.0.0.5", "uid-5", null, null, null)))
                .create();
        await().untilAsserted(() -> assertThat(last()).containsExactlyInAnyOrder(peer("uid-4", "10.0.0.4"),
                peer("uid-5", "10.0.0.5")));
    }

    @Test
    void slicesSplitOverTwoObjectsMergeAndAPodListedTwiceIsOnePeer() {
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2")))
                .create();
        admin.resource(slice("sluice-control", "sc-b", "IPv4", ready("10.0.0.3", "uid-3"), ready("10.0.0.2", "uid-2")))
                .create();
        await().untilAsserted(() -> assertThat(last()).containsExactlyInAnyOrder(peer("uid-1", "10.0.0.1"),
                peer("uid-2", "10.0.0.2"), peer("uid-3", "10.0.0.3")));
    }

    @Test
    void dualStackReplicasAreOnePeerEachAndIpv6OnlyOnesKeepTheirAddress() {
        admin.resource(slice("sluice-control", "sc-v4", "IPv4", ready("10.0.0.1", "uid-1"))).create();
        admin.resource(slice("sluice-control", "sc-v6", "IPv6", ready("fd00::1", "uid-1"),
                ready("fd00:0:0:0:0:0:0:2", "uid-2"))).create();
        await().untilAsserted(() -> assertThat(last()).containsExactlyInAnyOrder(peer("uid-1", "10.0.0.1"),
                peer("uid-2", "fd00::2")));
        assertThat(last()).extracting(Peer::control).containsExactlyInAnyOrder("10.0.0.1:8081", "[fd00:0:0:0:0:0:0:2]:8081");
    }

    @Test
    void anotherServicesSliceIsIgnoredAndDeletionRemoves() {
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"))).create();
        admin.resource(slice("sluice-control", "sc-b", "IPv4", ready("10.0.0.2", "uid-2"))).create();
        await().untilAsserted(() -> assertThat(last()).hasSize(2));
        admin.resource(slice("sluice", "data-plane", "IPv4", ready("10.0.9.9", "uid-9"))).create();

        admin.resource(slice("sluice-control", "sc-b", "IPv4")).delete();
        await().untilAsserted(() -> assertThat(last()).containsExactly(peer("uid-1", "10.0.0.1")));
        admin.resource(slice("sluice-control", "sc-a", "IPv4")).delete();
        await().untilAsserted(() -> assertThat(last()).isEmpty());
        assertThat(delivered).noneSatisfy(s -> assertThat(s).extracting(Peer::id).contains("uid-9"));
    }

    @Test
    void anApiServerOutageKeepsTheLastPeersAndTheWatchCatchesUp() {
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"), ready("10.0.0.2", "uid-2")))
                .create();
        await().untilAsserted(() -> assertThat(last()).hasSize(2));
        int deliveries = delivered.size();

        cluster.stop();
        await().atMost(Duration.ofSeconds(20)).until(() -> !watch.watching());
        // Nothing is known to have changed: the last set stays, and nothing is delivered.
        assertThat(watch.peers()).hasSize(2);
        assertThat(delivered).hasSize(deliveries);

        cluster.restart();
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"))).update();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(watch.watching()).isTrue();
            assertThat(last()).containsExactly(peer("uid-1", "10.0.0.1"));
        });
        assertThat(watch.failures()).isPositive();
    }

    @Test
    void aChangeThatLeavesTheLiveSetAsItWasDeliversNothing() {
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"),
                endpoint("10.0.0.2", "uid-2", false, false, false))).create();
        await().untilAsserted(() -> assertThat(last()).containsExactly(peer("uid-1", "10.0.0.1")));
        // uid-2 goes from not ready to terminating: still no peer, nothing to say.
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"),
                endpoint("10.0.0.2", "uid-2", false, false, true))).update();
        // A real change after it: the informer's events arrive in order, so had the first been
        // delivered it would sit between these two.
        admin.resource(slice("sluice-control", "sc-a", "IPv4", ready("10.0.0.1", "uid-1"),
                endpoint("10.0.0.2", "uid-2", false, false, true), ready("10.0.0.3", "uid-3"))).update();
        await().untilAsserted(() -> assertThat(last()).hasSize(2));
        assertThat(delivered).containsExactly(Set.of(), Set.of(peer("uid-1", "10.0.0.1")),
                Set.of(peer("uid-1", "10.0.0.1"), peer("uid-3", "10.0.0.3")));
    }
}
