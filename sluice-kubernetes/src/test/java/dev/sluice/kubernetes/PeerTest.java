package dev.sluice.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.pod.PodState;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditionsBuilder;
import org.junit.jupiter.api.Test;

class PeerTest {

    private static EndpointConditions conditions(Boolean ready, Boolean serving, Boolean terminating) {
        return new EndpointConditionsBuilder().withReady(ready).withServing(serving).withTerminating(terminating).build();
    }

    @Test
    void addressesAreCanonicalAndIpv6IsBracketed() {
        assertThat(new Peer("u", "10.0.0.1", 8081).address()).isEqualTo("10.0.0.1:8081");
        assertThat(new Peer("u", "[fd00::1]", 8081)).isEqualTo(new Peer("u", "fd00:0:0:0:0:0:0:1", 8081));
        assertThat(new Peer("u", "fd00::1", 8081).address()).isEqualTo("[fd00:0:0:0:0:0:0:1]:8081");
    }

    @Test
    void badPeersSayWhatIsWrong() {
        assertThatThrownBy(() -> new Peer(" ", "10.0.0.1", 1)).hasMessageContaining("blank");
        assertThatThrownBy(() -> new Peer("u", "sluice-0.sluice", 1)).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> new Peer("u", "10.0.0.1", 0)).hasMessageContaining("port 0");
    }

    @Test
    void onlyAnEndpointNeitherTerminatingNorSaidUnreadyIsLive() {
        assertThat(PeerWatch.state(null)).isEqualTo(PodState.READY);
        assertThat(PeerWatch.state(conditions(null, null, null))).isEqualTo(PodState.READY);
        assertThat(PeerWatch.state(conditions(true, true, false))).isEqualTo(PodState.READY);
        assertThat(PeerWatch.state(conditions(true, false, false))).isEqualTo(PodState.NOT_READY);
        assertThat(PeerWatch.state(conditions(false, null, null))).isEqualTo(PodState.NOT_READY);
        assertThat(PeerWatch.state(conditions(true, true, true))).isEqualTo(PodState.DRAINING);
    }
}
