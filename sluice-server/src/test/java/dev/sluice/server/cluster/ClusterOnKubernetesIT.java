package dev.sluice.server.cluster;

import static dev.sluice.kubernetes.MockCluster.endpoint;
import static dev.sluice.kubernetes.MockCluster.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.kubernetes.MockCluster;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two replicas whose membership is Kubernetes' (the fabric8 mock API server, CRUD mode): the
 * ready endpoints of the control Service {@code sluice-control}, identified by pod UID, decide
 * who owns each limited revision; both compute the same owners, a replica whose endpoint turns
 * not ready loses its revisions, and requests sent to either replica reach the owner and never
 * put two at once on a pod with {@code cc 1}.
 */
class ClusterOnKubernetesIT {

    private static final String TOKEN = "cluster-token";
    private static final String NS = "sluice";
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;
    private final MockCluster api = new MockCluster();
    private final KubernetesClient admin = api.newClient();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        api.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * One slice per replica: a slice gives one port number to all its endpoints, and on loopback
     * two replicas need ports of their own (on Kubernetes each has its own IP and the same ports).
     */
    private static EndpointSlice slice(String replica, int proxyPort, int controlPort, Endpoint endpoint) {
        return new EndpointSliceBuilder().withNewMetadata().withNamespace(NS).withName("sluice-control-" + replica)
                .addToLabels("kubernetes.io/service-name", "sluice-control").endMetadata().withAddressType("IPv4")
                .addNewPort().withName("proxy").withPort(proxyPort).withProtocol("TCP").endPort()
                .addNewPort().withName("control").withPort(controlPort).withProtocol("TCP").endPort()
                .withEndpoints(endpoint).build();
    }

    private SluiceServer replica(String uid, int proxyPort, int controlPort, String revisions) throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, TOKEN);
        String yaml = "listen: {proxy: '127.0.0.1:" + proxyPort + "', control: '127.0.0.1:" + controlPort
                + "', scaler: 'off'}\n"
                + "control: {tokenFile: '" + token + "'}\n"
                + "shutdown: {drainPeriod: 1s, gracePeriod: 1s}\n"
                + "kubernetes: {masterUrl: '" + api.server().url("/") + "', tokenReview: {enabled: false},"
                + " peers: {namespace: " + NS + "}}\n"
                + "cluster: {self: " + uid + ", health: {interval: 100ms, timeout: 300ms}, handoffTimeout: 1s}\n"
                + revisions;
        SluiceServer s = SluiceServer.builder(ConfigLoader.parse(uid + ".yaml", yaml)).ioThreads(1).start();
        closing.add(s);
        return s;
    }

    private HttpResponse<String> get(String url, String revision) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (revision != null) {
            b.header("Sluice-Revision", revision);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Revision → owner, and whether every pod is ready, as {@code /v1/revisions} of {@code s} says. */
    private Map<String, String> owners(SluiceServer s) throws Exception {
        JsonNode list = JSON.readTree(get("http://127.0.0.1:" + s.controlAddress().getPort() + "/v1/revisions",
                null).body());
        Map<String, String> out = new TreeMap<>();
        for (JsonNode r : list) {
            boolean ready = true;
            for (JsonNode p : r.path("pods")) {
                ready &= p.path("state").asString("").equals("ready");
            }
            out.put(r.path("revision").asString(), r.path("owner").isNull() ? "none"
                    : r.path("owner").asString() + (ready ? "" : " (pods not ready)"));
        }
        return out;
    }

    /** 8 clients, each sending {@code each} requests for every revision to both replicas in turn. */
    private void load(List<String> revisions, List<SluiceServer> replicas, int each) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<Integer>>> done = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    List<Integer> codes = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        for (String rev : revisions) {
                            SluiceServer to = replicas.get((client + i) % replicas.size());
                            codes.add(get("http://127.0.0.1:" + to.proxyAddress().getPort() + "/", rev).statusCode());
                        }
                    }
                    return codes;
                }));
            }
            for (Future<List<Integer>> f : done) {
                assertThat(f.get()).as("every request answered by a pod").containsOnly(200);
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void theControlServicesReadyEndpointsDecideTheOwnersAndANotReadyReplicaLosesItsRevisions() throws Exception {
        Peer a = new Peer("uid-a", "x:1", "x:2");
        Peer b = new Peer("uid-b", "y:1", "y:2");
        // One revision each replica owns, so that both forward and both serve.
        List<String> revisions = new ArrayList<>();
        String ofA = null;
        String ofB = null;
        for (int i = 0; ofA == null || ofB == null; i++) {
            String rev = "default/fn-" + i;
            if (OwnerFunction.owner(rev, List.of(a, b)).equals(a)) {
                ofA = ofA == null ? rev : ofA;
            } else {
                ofB = ofB == null ? rev : ofB;
            }
        }
        revisions.add(ofA);
        revisions.add(ofB);
        List<TestPod> pods = new ArrayList<>();
        StringBuilder yaml = new StringBuilder("revisions:\n");
        for (String rev : revisions) {
            TestPod p1 = new TestPod(rev + "-1", 1);
            TestPod p2 = new TestPod(rev + "-2", 1);
            p1.serveIn(5);
            p2.serveIn(5);
            pods.add(p1);
            pods.add(p2);
            closing.add(p1);
            closing.add(p2);
            yaml.append("  - {name: ").append(rev.substring(rev.indexOf('/') + 1))
                    .append(", containerConcurrency: 1, readinessPath: /healthz, pods: ['").append(p1.address())
                    .append("', '").append(p2.address()).append("']}\n");
        }
        int[] pa = {freePort(), freePort()};
        int[] pb = {freePort(), freePort()};
        admin.resource(slice("a", pa[0], pa[1], ready("127.0.0.1", "uid-a"))).create();
        admin.resource(slice("b", pb[0], pb[1], ready("127.0.0.1", "uid-b"))).create();

        SluiceServer ra = replica("uid-a", pa[0], pa[1], yaml.toString());
        SluiceServer rb = replica("uid-b", pb[0], pb[1], yaml.toString());
        for (SluiceServer s : List.of(ra, rb)) {
            // Ready once the peer watch has listed (the mock server may drop a watch and reopen it).
            await().atMost(Duration.ofSeconds(30)).until(
                    () -> get("http://127.0.0.1:" + s.controlAddress().getPort() + "/readyz", null),
                    r -> r.statusCode() == 200 && r.body().matches("(?s).*replicas \\(kubernetes.peers\\): [^\n]*, 2 live.*"));
            // The metrics say it too, once the control tick has polled the watch.
            await().atMost(Duration.ofSeconds(30)).until(
                    () -> get("http://127.0.0.1:" + s.controlAddress().getPort() + "/metrics", null).body(),
                    m -> m.contains("sluice_cluster_peer_watch_up 1.0") && m.contains("sluice_cluster_live_replicas 2.0")
                            && m.contains("sluice_cluster_peer_watch_failures_total"));
        }
        Map<String, String> expected = Map.of(ofA, "uid-a", ofB, "uid-b");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(owners(ra)).isEqualTo(expected);
            assertThat(owners(rb)).isEqualTo(expected);
        });

        load(revisions, List.of(ra, rb), 10);
        assertThat(pods).allSatisfy(p -> assertThat(p.violations()).as(p.name() + ": more than 1 at once").isZero());
        int served = pods.stream().mapToInt(TestPod::served).sum();
        assertThat(served).isEqualTo(8 * 10 * 2);

        // uid-b's endpoint turns not ready (its /readyz fails): everything moves to uid-a, on both.
        admin.resource(slice("b", pb[0], pb[1], endpoint("127.0.0.1", "uid-b", true, false, false))).update();
        Map<String, String> allA = Map.of(ofA, "uid-a", ofB, "uid-a");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(owners(ra)).isEqualTo(allA);
            assertThat(owners(rb)).isEqualTo(allA);
        });
        assertThat(get("http://127.0.0.1:" + rb.controlAddress().getPort() + "/readyz", null).body())
                .containsPattern("replicas \\(kubernetes.peers\\): [^\n]*, 1 live");

        load(revisions, List.of(ra, rb), 10);
        assertThat(pods).allSatisfy(p -> assertThat(p.violations()).as(p.name() + ": more than 1 at once").isZero());
        assertThat(pods.stream().mapToInt(TestPod::served).sum()).isEqualTo(served + 8 * 10 * 2);
    }
}
