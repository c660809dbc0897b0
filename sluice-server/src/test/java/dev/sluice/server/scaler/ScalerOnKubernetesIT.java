package dev.sluice.server.scaler;

import static dev.sluice.kubernetes.MockCluster.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.scaler.proto.GetMetricsRequest;
import dev.sluice.server.TestPod;
import dev.sluice.server.cluster.KubernetesReplicas;
import dev.sluice.server.cluster.OwnerFunction;
import dev.sluice.server.cluster.Peer;
import dev.sluice.server.runtime.SluiceServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * KEDA's external scaler on two replicas whose membership is Kubernetes' (the control Service's
 * EndpointSlices on the fabric8 mock API server, CRUD mode), a grpc-java client playing KEDA on
 * each. The scaler's tick is the test's to run ({@link SluiceServer#scalerTickNow}, with an hour
 * between its own ticks), so what reaches a stream between two ticks came by the push alone.
 */
class ScalerOnKubernetesIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern ACTIVE_NOTICE_ERRORS = Pattern.compile(
            "(?m)^sluice_cluster_peer_errors_total\\{([^}]*)\\} (\\S+)$");

    @TempDir
    Path dir;
    private KubernetesReplicas replicas;
    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();
    private final List<AutoCloseable> closing = new ArrayList<>();
    /** The owner of {@link #revision} (uid-a) and the other replica (uid-b). */
    private SluiceServer owner;
    private SluiceServer other;
    private KedaClient kedaOnOwner;
    private KedaClient kedaOnOther;
    private String revision;

    @BeforeEach
    void revisionOwnedByA() {
        replicas = new KubernetesReplicas(dir);
        List<Peer> ids = List.of(new Peer("uid-a", "x:1", "x:2"), new Peer("uid-b", "y:1", "y:2"));
        for (int i = 0; revision == null; i++) {
            if (OwnerFunction.owner("default/fn-" + i, ids).id().equals("uid-a")) {
                revision = "fn-" + i;
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        replicas.close();
    }

    /**
     * Starts both replicas; uid-b's slice names {@code bControlAsPublished} as its control port
     * (its real one, or one that does not answer), uid-a's its real one.
     */
    private void start(int[] pa, int[] pb, int bControlAsPublished) throws Exception {
        replicas.publish("a", pa[0], pa[1], ready("127.0.0.1", "uid-a"));
        replicas.publish("b", pb[0], bControlAsPublished, ready("127.0.0.1", "uid-b"));
        String revisions = "revisions:\n- {namespace: default, name: " + revision
                + ", containerConcurrency: 1, readinessPath: /healthz, scaleToZeroGrace: 30s}\n";
        owner = replicas.start("uid-a", pa[0], pa[1], "127.0.0.1:0", revisions,
                b -> b.scalerTickInterval(Duration.ofHours(1)));
        other = replicas.start("uid-b", pb[0], pb[1], "127.0.0.1:0", revisions,
                b -> b.scalerTickInterval(Duration.ofHours(1)));
        replicas.awaitLive(owner, 2);
        replicas.awaitLive(other, 2);
        await().atMost(WAIT).until(() -> view(other).path("forwarded").asBoolean()
                && view(owner).path("owner").asString("").equals("uid-a")
                && view(other).path("owner").asString("").equals("uid-a"));
        kedaOnOwner = new KedaClient(owner.scalerAddress());
        kedaOnOther = new KedaClient(other.scalerAddress());
        closing.add(kedaOnOwner);
        closing.add(kedaOnOther);
    }

    private static int[] ports() throws Exception {
        return new int[] {KubernetesReplicas.freePort(), KubernetesReplicas.freePort()};
    }

    private HttpResponse<String> control(SluiceServer s, String path, String post) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.controlAddress().getPort()
                + path)).header("Authorization", "Bearer " + KubernetesReplicas.TOKEN).timeout(WAIT);
        if (post != null) {
            b.POST(HttpRequest.BodyPublishers.ofString(post));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode view(SluiceServer s) throws Exception {
        String body = control(s, "/v1/revisions", null).body();
        for (JsonNode r : json.readTree(body)) {
            if (r.get("revision").asString().equals("default/" + revision)) {
                return r;
            }
        }
        throw new AssertionError("default/" + revision + " is not in /v1/revisions: " + body);
    }

    /** How many activity notices {@code s} failed to deliver to {@code peer}, by its metrics. */
    private double noticeErrors(SluiceServer s, String peer) throws Exception {
        Matcher m = ACTIVE_NOTICE_ERRORS.matcher(control(s, "/metrics", null).body());
        double n = 0;
        while (m.find()) {
            if (m.group(1).contains("kind=\"active\"") && m.group(1).contains("peer=\"" + peer + "\"")) {
                n += Double.parseDouble(m.group(2));
            }
        }
        return n;
    }

    private CompletableFuture<HttpResponse<String>> request(SluiceServer s) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.proxyAddress().getPort()
                + "/")).header("Sluice-Revision", "default/" + revision).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static long metric(KedaClient keda, String name) {
        return keda.call().getMetrics(GetMetricsRequest.newBuilder()
                .setScaledObjectRef(KedaClient.ref("default", name)).build()).getMetricValues(0).getMetricValue();
    }

    private static boolean active(KedaClient keda, String name) {
        return keda.call().isActive(KedaClient.ref("default", name)).getResult();
    }

    /** A pod reports ready to both replicas, as its reports reach every replica; the waiting requests are served. */
    private TestPod podReportsReady() throws Exception {
        TestPod pod = new TestPod("pod-1", 1);
        closing.add(pod);
        String body = "{\"revision\":\"default/" + revision + "\",\"podId\":\"pod-1\",\"address\":\"" + pod.address()
                + "\",\"state\":\"ready\"}";
        for (SluiceServer s : List.of(owner, other)) {
            HttpResponse<String> r = control(s, "/v1/pods", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        return pod;
    }

    @Test
    void bothReplicasGiveTheSameAnswersAndTrueReachesTheNonOwnersStreamByTheNotice() throws Exception {
        int[] pa = ports();
        int[] pb = ports();
        start(pa, pb, pb[1]);
        KedaClient.Stream onOther = kedaOnOther.stream(KedaClient.ref("default", revision));
        KedaClient.Stream onOwner = kedaOnOwner.stream(KedaClient.ref("default", revision));
        assertThat(onOther.next(WAIT).active()).as("the owner's answer, relayed, on open").isFalse();
        assertThat(onOwner.next(WAIT).active()).isFalse();
        assertThat(metric(kedaOnOther, revision)).isEqualTo(metric(kedaOnOwner, revision)).isZero();
        assertThat(active(kedaOnOther, revision)).isEqualTo(active(kedaOnOwner, revision)).isFalse();

        // A request reaches the owner, which has no pod: its notice is the only way to uid-b's
        // stream before a tick, and no tick runs.
        CompletableFuture<HttpResponse<String>> first = request(owner);
        assertThat(onOwner.until(true, WAIT).active()).isTrue();
        assertThat(onOther.until(true, WAIT).active()).as("pushed by the owner's notice").isTrue();
        await().atMost(WAIT).until(() -> view(owner).get("queued").asInt() == 1);
        assertThat(metric(kedaOnOwner, revision)).isEqualTo(1);
        assertThat(metric(kedaOnOther, revision)).as("KEDA's round robin lands on uid-b").isEqualTo(1);
        assertThat(active(kedaOnOwner, revision)).isTrue();
        assertThat(active(kedaOnOther, revision)).isTrue();

        // A second one reaches uid-b and is forwarded: both replicas count both, at the owner.
        CompletableFuture<HttpResponse<String>> second = request(other);
        await().atMost(WAIT).until(() -> view(owner).get("queued").asInt() == 2);
        assertThat(metric(kedaOnOwner, revision)).isEqualTo(2);
        assertThat(metric(kedaOnOther, revision)).isEqualTo(2);
        assertThat(view(other).get("queued").asInt()).as("nothing queues at the non-owner").isZero();

        TestPod pod = podReportsReady();
        assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(second.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(pod.served()).isEqualTo(2);
        assertThat(noticeErrors(owner, "uid-b")).isZero();
        assertThat(onOther.error).isNull();
    }

    @Test
    void aNoticeThatCannotBeDeliveredIsMadeGoodByTheNextTick() throws Exception {
        // uid-b's slice names a control port that takes connections and never answers, so the
        // owner's notice to uid-b times out; uid-b still reaches the owner's control API itself.
        try (ServerSocket silent = new ServerSocket(0)) {
            int[] pa = ports();
            int[] pb = ports();
            start(pa, pb, silent.getLocalPort());
            KedaClient.Stream onOther = kedaOnOther.stream(KedaClient.ref("default", revision));
            assertThat(onOther.next(WAIT).active()).as("the owner's answer, relayed, on open").isFalse();

            CompletableFuture<HttpResponse<String>> r = request(owner);
            await().atMost(WAIT).until(() -> noticeErrors(owner, "uid-b") >= 1);
            assertThat(onOther.messages).as("no notice arrived and no tick ran: nothing pushed").isEmpty();
            assertThat(onOther.error).isNull();

            // uid-b's next tick asks the owner and relays its answer.
            other.scalerTickNow();
            assertThat(onOther.until(true, WAIT).active()).isTrue();
            assertThat(active(kedaOnOther, revision)).isEqualTo(active(kedaOnOwner, revision)).isTrue();

            podReportsReady();
            assertThat(r.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
    }
}
