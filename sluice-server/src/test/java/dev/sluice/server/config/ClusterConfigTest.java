package dev.sluice.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The {@code cluster:} section: read, defaulted, and every mistake reported with its field. */
class ClusterConfigTest {

    private static final String PEERS = """
            cluster:
              self: b
              peers:
                - {id: a, address: "10.0.0.1:8080", control: "10.0.0.1:8081"}
                - {id: b, address: "10.0.0.2:8080", control: "10.0.0.2:8081"}
                - {id: c, address: "10.0.0.3:8080", control: "10.0.0.3:8081"}
            revisions: []
            """;

    @Test
    void noClusterSectionMeansAlone() throws Exception {
        assertThat(ConfigLoader.parse("s.yaml", "revisions: []").cluster()).isNull();
    }

    @Test
    void staticPeersWithDefaults() throws Exception {
        ClusterConfig c = ConfigLoader.parse("s.yaml", PEERS).cluster();
        assertThat(c.self()).isEqualTo("b");
        assertThat(c.peers()).extracting(ClusterConfig.Peer::id).containsExactly("a", "b", "c");
        assertThat(c.peers().get(2).address()).hasToString("10.0.0.3:8080");
        assertThat(c.peers().get(2).control()).hasToString("10.0.0.3:8081");
        assertThat(c.healthInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.healthTimeout()).isEqualTo(Duration.ofMillis(400));
        assertThat(c.failures()).isEqualTo(2);
        assertThat(c.handoffTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void withoutPeersSelfDefaultsToTheHostsName() throws Exception {
        ClusterConfig c = ConfigLoader.parse("s.yaml", "cluster: {health: {interval: 1s, failures: 3}, "
                + "handoffTimeout: 5s}\nrevisions: []").cluster();
        assertThat(c.peers()).isEmpty();
        assertThat(c.self()).isEqualTo(ClusterConfigReader.defaultSelf()).isNotBlank();
        assertThat(c.healthInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.failures()).isEqualTo(3);
    }

    @Test
    void staticPeersAndTheKubernetesSourceAreNotBothAllowed() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.parse("s.yaml", PEERS + "kubernetes: {peers: {}}\n"))
                .hasMessageContaining("s.yaml").hasMessageContaining("kubernetes.peers")
                .hasMessageContaining("not both");
        // Either one alone is fine: static peers, or the control Service's endpoints.
        assertThat(ConfigLoader.parse("s.yaml", PEERS + "kubernetes: {}\n").kubernetes().peers()).isNull();
        assertThat(ConfigLoader.parse("s.yaml", "cluster: {}\nkubernetes: {peers: {}}\nrevisions: []")
                .kubernetes().peers()).isEqualTo(KubernetesConfig.Peers.DEFAULTS);
    }

    @Test
    void everyMistakeIsReportedWithItsField() {
        assertThatThrownBy(() -> ConfigLoader.parse("s.yaml", """
                cluster:
                  self: z
                  peers:
                    - {id: a, address: "10.0.0.1:8080", control: "10.0.0.1:8081"}
                    - {id: a, address: "10.0.0.2:8080", control: "10.0.0.2:8081"}
                    - {id: c, address: "10.0.0.1:8080", control: "10.0.0.1:9081"}
                    - {id: d, address: "10.0.0.4:8080"}
                    - {id: e, address: "10.0.0.5:8080", control: "10.0.0.5:8080"}
                    - {address: "10.0.0.6:8080", control: "10.0.0.6:8081", port: 3}
                  health: {interval: 0s, failures: 0}
                  handoffTimeout: 100ms
                  size: 3
                revisions: []
                """))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("s.yaml: cluster.peers[1].id: replica 'a' is already listed at cluster.peers[0]")
                .hasMessageContaining("s.yaml: cluster.peers[2].address: 10.0.0.1:8080 is already the address of"
                        + " the replica at cluster.peers[0]")
                .hasMessageContaining("s.yaml: cluster.peers[3].control: missing: host:port of the peer's control API")
                .hasMessageContaining("s.yaml: cluster.peers[4].control: is the same as its address 10.0.0.5:8080")
                .hasMessageContaining("s.yaml: cluster.peers[5].port: unknown field")
                .hasMessageContaining("s.yaml: cluster.peers[5].id: missing")
                .hasMessageContaining("s.yaml: cluster.self: 'z' is not the id of any of cluster.peers (a, c)")
                .hasMessageContaining("s.yaml: cluster.health.interval: must be positive")
                .hasMessageContaining("s.yaml: cluster.health.failures: must be between 1 and 100, was 0")
                .hasMessageContaining("s.yaml: cluster.handoffTimeout: must be longer than the time to notice a"
                        + " replica gone")
                .hasMessageContaining("s.yaml: cluster.size: unknown field");
    }

    @Test
    void aPeerAddressMustBeReachable() {
        assertThatThrownBy(() -> ConfigLoader.parse("s.yaml", """
                cluster:
                  self: a
                  peers: [{id: a, address: "10.0.0.1:0", control: "not an address"}]
                revisions: []
                """))
                .hasMessageContaining("cluster.peers[0].address: port 0 cannot be reached");
    }
}
