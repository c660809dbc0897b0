package dev.sluice.server.kubernetes;

import static dev.sluice.kubernetes.MockCluster.ready;
import static dev.sluice.kubernetes.MockCluster.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.kubernetes.MockCluster;
import dev.sluice.kubernetes.RevisionCatalog;
import dev.sluice.server.H2cPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A revision of {@code sluice.yaml} that takes its pods from a Service and names no
 * {@code protocol} speaks what the Service's port says in its EndpointSlices'
 * {@code appProtocol}: h2c for {@code kubernetes.io/h2c}, from the pods' first readiness check
 * on; a {@code protocol} in the file wins. The pod is an h2c-only server (an HTTP/1.1 request
 * gets no answer from it), on the fabric8 mock API server.
 */
class ServiceAppProtocolIT {

    private final MockCluster cluster = new MockCluster();
    private final KubernetesClient admin = cluster.newClient();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private H2cPod pod;
    private SluiceServer sluice;

    @AfterEach
    void tearDown() {
        if (sluice != null) {
            sluice.close();
        }
        if (pod != null) {
            pod.close();
        }
        cluster.close();
    }

    private void start(String protocol) throws Exception {
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0', scaler: off}\n"
                + "shutdown: {drainPeriod: 0s, gracePeriod: 1s}\n"
                + "kubernetes: {masterUrl: '" + cluster.server().url("/") + "'}\n"
                + "revisions: [{namespace: ns, name: fn, containerConcurrency: 1, readinessPath: /healthz,"
                + " service: {name: fn}" + protocol + "}]\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("t.yaml", yaml)).ioThreads(1).start();
    }

    private EndpointSlice slice(String appProtocol) {
        return new EndpointSliceBuilder(MockCluster.slice("fn", "fn-a", "IPv4", pod.port(), ready(pod.ip(), "uid-a")))
                .editFirstPort().withAppProtocol(appProtocol).endPort().build();
    }

    private String revisions() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort()
                + "/v1/revisions")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private boolean podReady() {
        for (PodTracker t : sluice.throttlers().get(new RevisionId("ns", "fn")).table().trackers()) {
            if (t.state() == PodState.READY) {
                return true;
            }
        }
        return false;
    }

    @Test
    void theServicesH2cAppProtocolMakesTheFilesRevisionSpeakH2cFromTheFirstCheck() throws Exception {
        pod = new H2cPod("h2c-pod", "127.0.0.2");
        start("");
        admin.resource(slice(RevisionCatalog.H2C_APP_PROTOCOL)).create();
        await().atMost(Duration.ofSeconds(30)).until(this::podReady);
        assertThat(pod.paths()).as("its first check already spoke HTTP/2").first().isEqualTo("/healthz");
        assertThat(revisions()).contains("\"protocol\" : \"h2c\"");

        // An HTTP/1.1 client's request reaches the h2c-only pod: Sluice translated it.
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.proxyAddress().getPort() + "/work")).header("Sluice-Revision", "ns/fn").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("h2c-pod");
        assertThat(pod.paths()).contains("/work");

        // The port no longer says h2c: the revision goes back to HTTP/1.1.
        admin.resource(slice(null)).update();
        await().atMost(Duration.ofSeconds(30)).until(() -> revisions().contains("\"protocol\" : \"http1\""));
    }

    @Test
    void aProtocolInTheFileWinsOverTheServicesAppProtocol() throws Exception {
        pod = new H2cPod("h2c-pod", "127.0.0.3");
        start(", protocol: http1");
        admin.resource(slice(RevisionCatalog.H2C_APP_PROTOCOL)).create();
        // The pod is checked in HTTP/1.1, which an h2c-only server does not answer: it fails, stays out.
        await().atMost(Duration.ofSeconds(30)).until(() -> revisions().contains("\"failuresInARow\""));
        assertThat(revisions()).contains("\"protocol\" : \"http1\"").doesNotContain("\"protocol\" : \"h2c\"");
        assertThat(podReady()).isFalse();
        assertThat(pod.paths()).as("no HTTP/2 request reached it").isEmpty();
    }
}
