package dev.sluice.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.pod.PodState;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditionsBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerTest {

    private static EndpointConditions conditions(Boolean ready, Boolean serving, Boolean terminating) {
        return new EndpointConditionsBuilder().withReady(ready).withServing(serving).withTerminating(terminating).build();
    }

    @Test
    void addressesAreCanonicalAndIpv6IsBracketed() {
        assertThat(new Peer("u", "10.0.0.1", 8080, 8081).address()).isEqualTo("10.0.0.1:8080");
        assertThat(new Peer("u", "10.0.0.1", 8080, 8081).control()).isEqualTo("10.0.0.1:8081");
        assertThat(new Peer("u", "[fd00::1]", 8080, 8081)).isEqualTo(new Peer("u", "fd00:0:0:0:0:0:0:1", 8080, 8081));
        assertThat(new Peer("u", "fd00::1", 8080, 8081).address()).isEqualTo("[fd00:0:0:0:0:0:0:1]:8080");
    }

    @Test
    void badPeersSayWhatIsWrong() {
        assertThatThrownBy(() -> new Peer(" ", "10.0.0.1", 1, 2)).hasMessageContaining("blank");
        assertThatThrownBy(() -> new Peer("u", "sluice-0.sluice", 1, 2)).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> new Peer("u", "10.0.0.1", 1, 0)).hasMessageContaining("control port 0");
    }

    @Test
    void aServiceWithoutTheNamedPortsGivesNoPeersAndSaysWhy() {
        PeerView v = PeerView.translate(new ServiceRef("ns", "sluice-control", "control"), "proxy",
                List.of(MockCluster.slice("sluice-control", "sc-a", "IPv4", 8081, MockCluster.ready("10.0.0.1", "u1"))));
        assertThat(v.peers()).isEmpty();
        assertThat(v.problems()).containsExactly("slice sc-a: no port named or numbered 'control'",
                "slice sc-a: no port named or numbered 'proxy'");
    }

    @Test
    void anEndpointWithoutAPodReferenceIsNamedByItsControlAddress() {
        EndpointSlice handMade = new EndpointSliceBuilder().withNewMetadata().withNamespace("ns").withName("manual")
                .addToLabels(ServiceWatch.SERVICE_NAME_LABEL, "sluice-control").endMetadata().withAddressType("IPv4")
                .addNewPort().withName("proxy").withPort(8080).endPort()
                .addNewPort().withName("control").withPort(8081).endPort()
                .addNewEndpoint().withAddresses("10.0.0.7").endEndpoint().build();
        PeerView v = PeerView.translate(new ServiceRef("ns", "sluice-control", "control"), "proxy", List.of(handMade));
        assertThat(v.peers()).containsExactly(new Peer("10.0.0.7:8081", "10.0.0.7", 8080, 8081));
    }

    @Test
    void onlyAnEndpointNeitherTerminatingNorSaidUnreadyIsLive() {
        assertThat(PeerView.state(null)).isEqualTo(PodState.READY);
        assertThat(PeerView.state(conditions(null, null, null))).isEqualTo(PodState.READY);
        assertThat(PeerView.state(conditions(true, true, false))).isEqualTo(PodState.READY);
        assertThat(PeerView.state(conditions(true, false, false))).isEqualTo(PodState.NOT_READY);
        assertThat(PeerView.state(conditions(false, null, null))).isEqualTo(PodState.NOT_READY);
        assertThat(PeerView.state(conditions(true, true, true))).isEqualTo(PodState.DRAINING);
    }
}
