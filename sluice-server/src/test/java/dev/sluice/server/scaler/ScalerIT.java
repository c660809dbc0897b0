package dev.sluice.server.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.scaler.proto.GetMetricSpecResponse;
import dev.sluice.scaler.proto.GetMetricsRequest;
import dev.sluice.scaler.proto.GetMetricsResponse;
import dev.sluice.scaler.proto.MetricSpec;
import dev.sluice.scaler.proto.ScaledObjectRef;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * KEDA's external scaler against a real Sluice, over real sockets: a grpc-java client plays KEDA
 * (StreamIsActive, IsActive, GetMetricSpec, GetMetrics), a real HTTP client sends requests, and
 * a pod registers itself through the control API as an autoscaled pod would.
 */
class ScalerIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration GRACE = Duration.ofSeconds(30);
    private static final RevisionId FN = new RevisionId("default", "fn");

    private final ManualClock clock = new ManualClock();
    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();
    private final List<TestPod> pods = new ArrayList<>();
    private SluiceServer sluice;
    private KedaClient keda;

    @BeforeEach
    void start() throws Exception {
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0', scaler: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "- {namespace: default, name: fn, containerConcurrency: 1, readinessPath: /healthz, scaleToZeroGrace: 30s}\n"
                + "- {namespace: default, name: open, containerConcurrency: 0}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("scaler.yaml", yaml)).clock(clock).ioThreads(1)
                .scalerTickInterval(Duration.ofMillis(20)).start();
        keda = new KedaClient(sluice.scalerAddress());
    }

    @AfterEach
    void stop() throws Exception {
        keda.close();
        sluice.close();
        pods.forEach(TestPod::close);
    }

    private CompletableFuture<HttpResponse<String>> request(String revision) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sluice.proxyAddress().getPort()
                + "/")).header("Sluice-Revision", revision).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Registers a pod as the autoscaler's new pod would: it reports itself ready to the control API. */
    private TestPod podReportsReady(String name) throws Exception {
        TestPod pod = new TestPod(name, 1);
        pods.add(pod);
        String body = "{\"revision\":\"default/fn\",\"podId\":\"" + name + "\",\"address\":\"" + pod.address()
                + "\",\"state\":\"ready\"}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(control("/v1/pods"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return pod;
    }

    private URI control(String path) {
        return URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort() + path);
    }

    private String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(control(path)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private JsonNode revisionView(RevisionId id) throws Exception {
        for (JsonNode r : json.readTree(get("/v1/revisions"))) {
            if (r.get("revision").asString().equals(id.toString())) {
                return r;
            }
        }
        throw new AssertionError(id + " is not in /v1/revisions");
    }

    private long metricValue(ScaledObjectRef ref) {
        GetMetricsResponse r = keda.call().getMetrics(GetMetricsRequest.newBuilder().setScaledObjectRef(ref)
                .setMetricName("sluice_default_fn_concurrency").build());
        assertThat(r.getMetricValuesList()).hasSize(1);
        assertThat(r.getMetricValues(0).getMetricName()).isEqualTo("sluice_default_fn_concurrency");
        assertThat(r.getMetricValues(0).getMetricValueFloat()).isEqualTo((double) r.getMetricValues(0).getMetricValue());
        return r.getMetricValues(0).getMetricValue();
    }

    @Test
    void theFirstRequestAtZeroPodsPushesTrueAndIsServedOnceThePodReportsReady() throws Exception {
        KedaClient.Stream stream = keda.stream(KedaClient.ref("default", "fn"));
        assertThat(stream.next(WAIT).active()).as("the current answer on open").isFalse();
        assertThat(keda.call().isActive(KedaClient.ref("default", "fn")).getResult()).isFalse();

        long sent = System.nanoTime();
        CompletableFuture<HttpResponse<String>> response = request("default/fn");
        KedaClient.Message pushed = stream.next(WAIT);
        assertThat(pushed.active()).isTrue();
        System.out.printf("scaler push: request sent -> StreamIsActive true received in %.3f ms%n",
                (pushed.arrivedNanos() - sent) / 1e6);
        assertThat(response).isNotDone();
        assertThat(revisionView(FN).get("coldStartInProgress").asBoolean()).isTrue();
        assertThat(keda.call().isActive(KedaClient.ref("default", "fn")).getResult()).isTrue();

        clock.advance(Duration.ofMillis(2_500));
        TestPod pod = podReportsReady("pod-1");
        HttpResponse<String> served = response.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(pod.served()).isEqualTo(1);

        JsonNode view = revisionView(FN);
        assertThat(view.get("lastColdStartSeconds").asDouble()).as("the manual clock's 2.5 s").isEqualTo(2.5);
        assertThat(view.get("coldStartInProgress").asBoolean()).isFalse();
        assertThat(get("/metrics")).contains("sluice_cold_start_seconds_count{revision=\"default/fn\"} 1")
                .contains("sluice_cold_start_seconds_sum{revision=\"default/fn\"} 2.5");
    }

    @Test
    void getMetricsAgreesWithTheControlApiWhileASlowPodHoldsRequests() throws Exception {
        TestPod pod = podReportsReady("pod-1");
        await().atMost(WAIT).until(() -> sluice.throttlers().get(FN).routablePods() == 1);
        pod.hold();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            responses.add(request("default/fn"));
        }
        await().atMost(WAIT).until(() -> pod.arrived() == 1 && sluice.throttlers().get(FN).queued() == 4);

        JsonNode view = revisionView(FN);
        assertThat(view.get("active").asInt()).isEqualTo(1);
        assertThat(view.get("queued").asInt()).isEqualTo(4);
        ScaledObjectRef ref = KedaClient.ref("keda", "scaled-fn", "revision", "default/fn");
        assertThat(metricValue(ref)).isEqualTo(view.get("active").asInt() + view.get("queued").asInt());
        assertThat(keda.call().isActive(ref).getResult()).isTrue();

        pod.release(5);
        for (CompletableFuture<HttpResponse<String>> r : responses) {
            assertThat(r.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        await().atMost(WAIT).until(() -> sluice.throttlers().get(FN).active() == 0);
        assertThat(metricValue(ref)).isZero();
        assertThat(revisionView(FN).get("active").asInt()).isZero();
    }

    @Test
    void falseIsPushedOnceDemandHasBeenZeroForTheGrace() throws Exception {
        KedaClient.Stream stream = keda.stream(KedaClient.ref("default", "fn"));
        assertThat(stream.next(WAIT).active()).isFalse();
        CompletableFuture<HttpResponse<String>> response = request("default/fn");
        assertThat(stream.next(WAIT).active()).isTrue();
        podReportsReady("pod-1");
        assertThat(response.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        await().atMost(WAIT).until(() -> sluice.throttlers().get(FN).demand().total() == 0);

        clock.advance(GRACE.minusSeconds(1));
        assertThat(stream.until(true, WAIT).active()).as("a heartbeat, still within the grace").isTrue();
        assertThat(keda.call().isActive(KedaClient.ref("default", "fn")).getResult()).isTrue();

        clock.advance(Duration.ofSeconds(1));
        assertThat(stream.until(false, WAIT).active()).isFalse();
        assertThat(keda.call().isActive(KedaClient.ref("default", "fn")).getResult()).isFalse();
    }

    @Test
    void anUnknownRevisionIsNotFoundWithTheReason() {
        ScaledObjectRef unknown = KedaClient.ref("default", "nope");
        for (Runnable call : List.<Runnable>of(
                () -> keda.call().isActive(unknown),
                () -> keda.call().getMetricSpec(unknown),
                () -> keda.call().getMetrics(GetMetricsRequest.newBuilder().setScaledObjectRef(unknown).build()),
                () -> keda.call().streamIsActive(unknown).next())) {
            assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                assertThat(e.getStatus().getDescription()).contains("Sluice runs no revision default/nope")
                        .contains("scalerMetadata.revision");
            });
        }
        assertThatThrownBy(() -> keda.call().isActive(KedaClient.ref("keda", "x", "revision", "keda/gone")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
                        .isEqualTo("Sluice runs no revision keda/gone (from scalerMetadata.revision)"));
        assertThatThrownBy(() -> keda.call().isActive(KedaClient.ref("keda", "x", "revision", "not-a-revision")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void theMetricSpecTargetsTheMetadataElseContainerConcurrencyElseOne() {
        MetricSpec fromCc = spec(KedaClient.ref("default", "fn"));
        assertThat(fromCc.getMetricName()).isEqualTo("sluice_default_fn_concurrency");
        assertThat(fromCc.getTargetSizeFloat()).isEqualTo(1.0);
        assertThat(fromCc.getTargetSize()).isEqualTo(1);

        MetricSpec fromMetadata = spec(KedaClient.ref("default", "fn", "targetConcurrency", "2.5"));
        assertThat(fromMetadata.getTargetSizeFloat()).isEqualTo(2.5);
        assertThat(fromMetadata.getTargetSize()).isEqualTo(3);

        MetricSpec unlimited = spec(KedaClient.ref("default", "open"));
        assertThat(unlimited.getMetricName()).isEqualTo("sluice_default_open_concurrency");
        assertThat(unlimited.getTargetSizeFloat()).as("containerConcurrency 0 (unlimited): 1").isEqualTo(1.0);

        assertThatThrownBy(() -> spec(KedaClient.ref("default", "fn", "targetConcurrency", "zero")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("targetConcurrency").contains("zero");
                });
        assertThatThrownBy(() -> keda.call().streamMetricSpec(KedaClient.ref("default", "fn")).next())
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    }

    private MetricSpec spec(ScaledObjectRef ref) {
        GetMetricSpecResponse r = keda.call().getMetricSpec(ref);
        assertThat(r.getMetricSpecsList()).hasSize(1);
        return r.getMetricSpecs(0);
    }
}
