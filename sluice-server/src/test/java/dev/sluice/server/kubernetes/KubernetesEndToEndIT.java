package dev.sluice.server.kubernetes;

import static dev.sluice.kubernetes.MockCluster.ready;
import static dev.sluice.kubernetes.MockCluster.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.kubernetes.MockCluster;
import dev.sluice.kubernetes.MockCluster.Identity;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice as it runs on Kubernetes, against the mock API server: pods from EndpointSlices, pods'
 * own reports authenticated by TokenReview, revisions from labels, and an API server outage.
 */
class KubernetesEndToEndIT {

    private static final RevisionId REV = new RevisionId("ns", "fn-00001");

    private final MockCluster cluster = new MockCluster();
    private final KubernetesClient admin = cluster.newClient();
    private final HttpClient http = HttpClient.newHttpClient();
    private TestPod a;
    private TestPod b;
    private SluiceServer sluice;

    @AfterEach
    void tearDown() {
        if (sluice != null) {
            sluice.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        cluster.close();
    }

    private void start(String revisions, boolean discover) throws Exception {
        // With a kubernetes section the scaler is on by default (0.0.0.0:9090): here on a free loopback port.
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0', scaler: '127.0.0.1:0'}\n"
                + "shutdown: {drainPeriod: 0s, gracePeriod: 1s}\n"
                + "kubernetes: {masterUrl: '" + cluster.server().url("/") + "', discoverRevisions: " + discover
                + ", tokenReview: {audiences: [sluice]}}\n"
                + "queueing: {classes: [interactive, batch]}\n" // discovered revisions take it too
                + "revisions: " + revisions + "\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("t.yaml", yaml)).ioThreads(1).start();
    }

    private void twoPods() throws Exception {
        a = new TestPod("a", 1, "127.0.0.2");
        b = new TestPod("b", 1, "127.0.0.3");
        cluster.issueToken("token-a", new Identity("fn", "pod-a", "uid-a", "sluice"));
        cluster.issueToken("token-b", new Identity("fn", "pod-b", "uid-b", "sluice"));
        // One port for both: a slice lists one port for all its endpoints. Each pod gets a slice.
        admin.resource(slice("fn", "fn-a", "IPv4", a.port(), ready(a.ip(), "uid-a"))).create();
        admin.resource(slice("fn", "fn-b", "IPv4", b.port(), ready(b.ip(), "uid-b"))).create();
    }

    private HttpResponse<String> control(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.controlAddress().getPort() + path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> report(String token, String podId, TestPod pod, String state) throws Exception {
        return control("POST", "/v1/pods", "{\"revision\":\"" + REV + "\",\"podId\":\"" + podId + "\",\"address\":\""
                + pod.address() + "\",\"state\":\"" + state + "\"}", token);
    }

    private String proxied() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.proxyAddress().getPort() + "/")).header("Sluice-Revision", REV.toString()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body().trim();
    }

    private Map<String, String> pods() {
        sluice.control().flush(REV).join();
        Map<String, String> out = new TreeMap<>();
        for (PodTracker t : sluice.throttlers().get(REV).table().trackers()) {
            out.put(t.podId(), t.state().wireName());
        }
        return out;
    }

    @Test
    void podsFromEndpointSlicesServeAndOnlyAPodItselfMayDrainIt() throws Exception {
        start("[{namespace: ns, name: fn-00001, containerConcurrency: 1, readinessPath: /healthz,"
                + " service: {name: fn}}]", false);
        await().until(() -> control("GET", "/readyz", null, null).statusCode() == 200);
        twoPods();
        await().untilAsserted(() -> assertThat(pods()).isEqualTo(Map.of("uid-a", "ready", "uid-b", "ready")));
        for (int i = 0; i < 10; i++) {
            assertThat(proxied()).isIn("a", "b");
        }
        assertThat(a.served() + b.served()).isEqualTo(10);

        // Pod a, with its own token, tries to drain pod b: refused, nothing changes.
        HttpResponse<String> forbidden = report("token-a", "uid-a", b, "draining");
        assertThat(forbidden.statusCode()).isEqualTo(403);
        assertThat(forbidden.body()).contains("does not have address " + b.address());
        assertThat(report("token-a", "uid-b", b, "draining").statusCode()).isEqualTo(403);
        HttpResponse<String> forged = report("forged", "uid-b", b, "draining");
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(forged.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        assertThat(report(null, "uid-b", b, "draining").statusCode()).isEqualTo(401);
        assertThat(pods()).isEqualTo(Map.of("uid-a", "ready", "uid-b", "ready"));

        // Pod a's preStop hook: from the moment it is answered, no request goes to pod a.
        HttpResponse<String> drained = report("token-a", "uid-a", a, "draining");
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        int servedByA = a.served();
        for (int i = 0; i < 10; i++) {
            assertThat(proxied()).isEqualTo("b");
        }
        assertThat(a.served()).isEqualTo(servedByA);

        String metrics = control("GET", "/metrics", null, null).body();
        assertThat(metrics).contains("sluice_pod_reports_total{outcome=\"forbidden\"} 2.0")
                .contains("sluice_pod_reports_total{outcome=\"unauthenticated\"} 1.0")
                .contains("sluice_pod_reports_total{outcome=\"accepted\"} 1.0")
                .contains("sluice_discovery_up{revision=\"ns/fn-00001\",service=\"ns/fn\"} 1.0");
    }

    /** Runs the example workload's lifecycle hook as a pod would, against this Sluice. */
    private int hook(String state, TestPod pod, String uid, Path tokenFile) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "../deploy/kubernetes/example/sluice-report.sh", state)
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("SLUICE_CONTROL", "localhost");
        env.put("SLUICE_CONTROL_PORT", String.valueOf(sluice.controlAddress().getPort()));
        env.put("SLUICE_TOKEN_FILE", tokenFile.toString());
        env.put("SLUICE_REVISION", REV.toString());
        env.put("POD_UID", uid);
        env.put("POD_IP", pod.ip());
        env.put("APP_HOST", pod.ip());
        env.put("APP_PORT", String.valueOf(pod.port()));
        env.put("READY_PATH", "/healthz");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(output).as("hook output").doesNotContain("did not take");
        return p.exitValue();
    }

    @Test
    void theExampleWorkloadsHookReportsReadyAndDraining(@TempDir Path dir) throws Exception {
        start("[{namespace: ns, name: fn-00001, containerConcurrency: 1, readinessPath: /healthz,"
                + " service: {name: fn}}]", false);
        a = new TestPod("a", 1, "127.0.0.2");
        b = new TestPod("b", 1, "127.0.0.3");
        cluster.issueToken("token-a", new Identity("fn", "pod-a", "uid-a", "sluice"));
        admin.resource(slice("fn", "fn-a", "IPv4", a.port(), MockCluster.endpoint(a.ip(), "uid-a", false, false, false)))
                .create();
        admin.resource(slice("fn", "fn-b", "IPv4", b.port(), ready(b.ip(), "uid-b"))).create();
        await().untilAsserted(() -> assertThat(pods()).isEqualTo(Map.of("uid-a", "not-ready", "uid-b", "ready")));
        Path token = dir.resolve("token");
        Files.writeString(token, "token-a");

        assertThat(hook("ready", a, "uid-a", token)).isZero();
        await().untilAsserted(() -> assertThat(pods()).containsEntry("uid-a", "ready"));

        assertThat(hook("draining", a, "uid-a", token)).isZero();
        // Draining with nothing in flight: gone at once.
        assertThat(pods()).isEqualTo(Map.of("uid-b", "ready"));
        int servedByA = a.served();
        for (int i = 0; i < 5; i++) {
            assertThat(proxied()).isEqualTo("b");
        }
        assertThat(a.served()).isEqualTo(servedByA);
    }

    @Test
    void anApiServerOutageKeepsTheLastViewAndSaysSo() throws Exception {
        start("[{namespace: ns, name: fn-00001, containerConcurrency: 1, readinessPath: /healthz,"
                + " service: {name: fn}}]", false);
        twoPods();
        await().untilAsserted(() -> assertThat(pods()).hasSize(2));

        cluster.stop();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            HttpResponse<String> readyz = control("GET", "/readyz", null, null);
            assertThat(readyz.statusCode()).isEqualTo(200);
            assertThat(readyz.body()).contains("watch down, routing on the last known view");
        });
        assertThat(control("GET", "/metrics", null, null).body())
                .contains("sluice_discovery_up{revision=\"ns/fn-00001\",service=\"ns/fn\"} 0.0");
        assertThat(proxied()).isIn("a", "b");
        // A pod's report cannot be checked while the API server is away: retry, not refused.
        HttpResponse<String> unavailable = report("token-a", "uid-a", a, "draining");
        assertThat(unavailable.statusCode()).isEqualTo(503);
        assertThat(unavailable.headers().firstValue("Retry-After")).isPresent();

        cluster.restart();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(control("GET", "/readyz", null, null).body()).contains("watching"));
    }

    @Test
    void revisionsAreDiscoveredFromServiceLabelsWithTheirAnnotations() throws Exception {
        start("[]", true);
        await().until(() -> control("GET", "/readyz", null, null).statusCode() == 200);
        admin.resource(new ServiceBuilder().withNewMetadata().withNamespace("ns").withName("fn")
                .addToLabels("sluice.dev/revision", "fn-00001")
                .addToAnnotations("sluice.dev/containerConcurrency", "1")
                .addToAnnotations("sluice.dev/readinessPath", "/healthz")
                .addToAnnotations("sluice.dev/queueTimeout", "5s").endMetadata().withNewSpec().addNewPort()
                .withName("http").withPort(80).endPort().endSpec().build()).create();
        twoPods();
        await().untilAsserted(() -> {
            assertThat(sluice.throttlers()).containsKey(REV);
            assertThat(pods()).hasSize(2);
        });
        assertThat(sluice.throttlers().get(REV).containerConcurrency()).isEqualTo(1);
        assertThat(proxied()).isIn("a", "b");
        assertThat(control("GET", "/v1/revisions", null, null).body())
                .as("the file's top-level queueing section reaches a discovered revision")
                .contains("\"defaultClass\" : \"batch\"");

        // An invalid change is refused and the running settings stay.
        admin.resource(new ServiceBuilder(admin.services().inNamespace("ns").withName("fn").get()).editMetadata()
                .addToAnnotations("sluice.dev/containerConcurrency", "lots").endMetadata().build()).update();
        admin.resource(new ServiceBuilder(admin.services().inNamespace("ns").withName("fn").get()).editMetadata()
                .addToLabels("touch", "1").endMetadata().build()).update();
        assertThat(sluice.throttlers().get(REV).containerConcurrency()).isEqualTo(1);

        admin.services().inNamespace("ns").withName("fn").delete();
        await().untilAsserted(() -> assertThat(sluice.throttlers()).doesNotContainKey(REV));
    }
}
