package dev.sluice.server.cluster;

import static org.awaitility.Awaitility.await;

import dev.sluice.kubernetes.MockCluster;
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
import java.util.function.UnaryOperator;

/**
 * In-process Sluice replicas whose membership is Kubernetes': the fabric8 mock API server in CRUD
 * mode holds one {@code sluice-control} EndpointSlice per replica, and each replica runs with
 * {@code kubernetes.peers} and a {@code cluster:} section without static peers, identified by
 * its pod UID. Closes the replicas, then the API server.
 */
public final class KubernetesReplicas implements AutoCloseable {

    public static final String NS = "sluice";
    public static final String TOKEN = "cluster-token";
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Path dir;
    private final MockCluster api = new MockCluster();
    private final KubernetesClient admin = api.newClient();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<SluiceServer> started = new ArrayList<>();

    /** @param dir where the control token's file is written */
    public KubernetesReplicas(Path dir) {
        this.dir = dir;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * One slice per replica: a slice gives one port number to all its endpoints, and on loopback
     * two replicas need ports of their own (on Kubernetes each has its own IP and the same ports).
     */
    public static EndpointSlice slice(String replica, int proxyPort, int controlPort, Endpoint endpoint) {
        return new EndpointSliceBuilder().withNewMetadata().withNamespace(NS).withName("sluice-control-" + replica)
                .addToLabels("kubernetes.io/service-name", "sluice-control").endMetadata().withAddressType("IPv4")
                .addNewPort().withName("proxy").withPort(proxyPort).withProtocol("TCP").endPort()
                .addNewPort().withName("control").withPort(controlPort).withProtocol("TCP").endPort()
                .withEndpoints(endpoint).build();
    }

    /** Publishes a replica's slice: created the first time, updated after. */
    public void publish(String replica, int proxyPort, int controlPort, Endpoint endpoint) {
        EndpointSlice s = slice(replica, proxyPort, controlPort, endpoint);
        if (admin.resource(s).get() == null) {
            admin.resource(s).create();
        } else {
            admin.resource(s).update();
        }
    }

    /**
     * Starts a replica with pod UID {@code uid} on loopback.
     *
     * @param scaler    {@code listen.scaler}: {@code off}, or an address such as {@code 127.0.0.1:0}
     * @param revisions the {@code revisions:} section (YAML)
     * @param tune      builder settings beyond one I/O thread
     */
    public SluiceServer start(String uid, int proxyPort, int controlPort, String scaler, String revisions,
            UnaryOperator<SluiceServer.Builder> tune) throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, TOKEN);
        String yaml = "listen: {proxy: '127.0.0.1:" + proxyPort + "', control: '127.0.0.1:" + controlPort
                + "', scaler: '" + scaler + "'}\n"
                + "control: {tokenFile: '" + token + "'}\n"
                + "shutdown: {drainPeriod: 1s, gracePeriod: 1s}\n"
                + "kubernetes: {masterUrl: '" + api.server().url("/") + "', tokenReview: {enabled: false},"
                + " peers: {namespace: " + NS + "}}\n"
                + "cluster: {self: " + uid + ", health: {interval: 100ms, timeout: 300ms}, handoffTimeout: 1s}\n"
                + revisions;
        SluiceServer s = tune.apply(SluiceServer.builder(ConfigLoader.parse(uid + ".yaml", yaml)).ioThreads(1))
                .start();
        started.add(s);
        return s;
    }

    /** Waits until {@code s} is ready with its peer watch listing {@code live} live replicas. */
    public void awaitLive(SluiceServer s, int live) {
        String control = "http://127.0.0.1:" + s.controlAddress().getPort();
        // Ready once the peer watch has listed (the mock server may drop a watch and reopen it).
        await().atMost(WAIT).until(() -> get(control + "/readyz"), r -> r.statusCode() == 200
                && r.body().matches("(?s).*replicas \\(kubernetes.peers\\): [^\n]*, " + live + " live.*"));
        // The metrics say it too, once the control tick has polled the watch.
        await().atMost(WAIT).until(() -> get(control + "/metrics").body(),
                m -> m.contains("sluice_cluster_peer_watch_up 1.0")
                        && m.contains("sluice_cluster_live_replicas " + live + ".0")
                        && m.contains("sluice_cluster_peer_watch_failures_total"));
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
        api.close();
    }
}
