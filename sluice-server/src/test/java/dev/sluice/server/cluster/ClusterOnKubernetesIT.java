package dev.sluice.server.cluster;

import static dev.sluice.kubernetes.MockCluster.endpoint;
import static dev.sluice.kubernetes.MockCluster.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.TestPod;
import dev.sluice.server.runtime.SluiceServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

    private static final ObjectMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;
    private KubernetesReplicas replicas;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        if (replicas != null) {
            replicas.close();
        }
    }

    private SluiceServer replica(String uid, int proxyPort, int controlPort, String revisions) throws Exception {
        return replicas.start(uid, proxyPort, controlPort, "off", revisions, b -> b);
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
        replicas = new KubernetesReplicas(dir);
        int[] pa = {KubernetesReplicas.freePort(), KubernetesReplicas.freePort()};
        int[] pb = {KubernetesReplicas.freePort(), KubernetesReplicas.freePort()};
        replicas.publish("a", pa[0], pa[1], ready("127.0.0.1", "uid-a"));
        replicas.publish("b", pb[0], pb[1], ready("127.0.0.1", "uid-b"));

        SluiceServer ra = replica("uid-a", pa[0], pa[1], yaml.toString());
        SluiceServer rb = replica("uid-b", pb[0], pb[1], yaml.toString());
        for (SluiceServer s : List.of(ra, rb)) {
            replicas.awaitLive(s, 2);
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
        replicas.publish("b", pb[0], pb[1], endpoint("127.0.0.1", "uid-b", true, false, false));
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
