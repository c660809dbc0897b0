package dev.sluice.server.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import dev.sluice.server.runtime.StartupException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

class ControlApiIT {

    private static final RevisionId REV = new RevisionId("default", "fn");
    private static final String TOKEN = "s3cret-token";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private TestPod pod;
    private SluiceServer sluice;

    @BeforeEach
    void start() throws Exception {
        pod = new TestPod("p1", 4);
        sluice = sluice("127.0.0.1", "");
    }

    /** A Sluice with the static token, its proxy bound to {@code proxyHost}, more control settings. */
    private SluiceServer sluice(String proxyHost, String controlExtra) throws Exception {
        return sluice(proxyHost, controlExtra, "");
    }

    private SluiceServer sluice(String proxyHost, String controlExtra, String moreRevisions) throws Exception {
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        String yaml = "listen: {proxy: '" + proxyHost + ":0', control: '127.0.0.1:0'}\n"
                + "control: {tokenFile: '" + tokenFile + "'" + controlExtra + "}\n"
                + "revisions: [{namespace: default, name: fn, containerConcurrency: 4, readinessPath: /healthz}"
                + moreRevisions + "]\n";
        return SluiceServer.builder(ConfigLoader.parse("t.yaml", yaml)).ioThreads(1).start();
    }

    private String report(String podId, String address, String state) {
        return "{\"revision\":\"default/fn\",\"podId\":\"" + podId + "\",\"address\":\"" + address
                + "\",\"state\":\"" + state + "\"}";
    }

    @AfterEach
    void stop() {
        sluice.close();
        pod.close();
    }

    private URI control(String path) {
        return URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort() + path);
    }

    private HttpResponse<String> post(String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(control("/v1/pods")).POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(control(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String report(String state) {
        return "{\"revision\":\"default/fn\",\"podId\":\"p1\",\"address\":\"" + pod.address() + "\",\"state\":\"" + state + "\"}";
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    @Test
    void aPodReportsItselfReadyAndIsValidatedThenServed() throws Exception {
        HttpResponse<String> r = post(report("ready"), TOKEN);
        assertThat(r.statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().find(pod.address()) != null);
        assertThat(throttler().table().find(pod.address()).state()).isEqualTo(PodState.READY);
        HttpResponse<String> proxied = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.proxyAddress().getPort() + "/")).header("Sluice-Revision", "default/fn").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(proxied.statusCode()).isEqualTo(200);
        HttpResponse<String> views = get("/v1/revisions");
        assertThat(views.statusCode()).isEqualTo(200);
        assertThat(views.body()).contains("\"revision\" : \"default/fn\"").contains("\"podId\" : \"p1\"")
                .contains("\"state\" : \"ready\"").contains("\"capacity\" : 4");
        HttpResponse<String> metrics = get("/metrics");
        assertThat(metrics.body()).contains("sluice_requests_total{code=\"200\",protocol=\"http1\",reason=\"proxied\",revision=\"default/fn\"} 1")
                .contains("sluice_pod_in_flight{").contains("sluice_revision_capacity{revision=\"default/fn\"} 4")
                .contains("sluice_readiness_validations_total");
        assertThat(post(report("draining"), TOKEN).statusCode()).isEqualTo(200);
        assertThat(throttler().table().find(pod.address())).as("idle, so removed at once").isNull();
    }

    @Test
    void withoutAValidTokenNothingChanges() throws Exception {
        HttpResponse<String> none = post(report("ready"), null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(post(report("ready"), "wrong").statusCode()).isEqualTo(401);
        assertThat(sluice.control().flush(REV)).succeedsWithin(Duration.ofSeconds(5));
        assertThat(throttler().table().size()).isZero();
        assertThat(pod.arrived()).isZero();
    }

    @Test
    void eachKindOfMalformedReportIsA400AndChangesNothing() throws Exception {
        String addr = pod.address();
        String[][] cases = {
            {"{not json", "not valid JSON"},
            {"[1,2]", "must be a JSON object"},
            {"{\"revision\":\"default/fn\",\"address\":\"" + addr + "\",\"state\":\"ready\"}", "field 'podId' is missing"},
            {"{\"revision\":\"default/fn\",\"podId\":\"p1\",\"address\":\"" + addr + "\",\"state\":\"sleepy\"}",
                "state 'sleepy' cannot be reported: expected one of ready, not-ready, draining"},
            {report("p1", addr, "pending"), "state 'pending' cannot be reported: expected one of ready, not-ready, draining"},
            {report("p1", addr, "Ready"), "state 'Ready' cannot be reported"},
            {report("p1", addr, "recovering"), "state 'recovering' cannot be reported"},
            {"{\"revision\":\"default/fn\",\"podId\":\"p1\",\"address\":\"" + addr + "\",\"state\":\"ready\","
                + "\"sate\":\"draining\"}", "unknown field 'sate' (known: address, podId, revision, state)"},
            {"{\"revision\":\"default/fn\",\"podId\":\"p1\",\"address\":\"nowhere\",\"state\":\"ready\"}", "not host:port"},
            {"{\"revision\":\"default/fn\",\"podId\":\"p1\",\"address\":\"10.0.0.1:0\",\"state\":\"ready\"}", "outside 1-65535"},
            {"{\"revision\":\"fn\",\"podId\":\"p1\",\"address\":\"" + addr + "\",\"state\":\"ready\"}", "namespace/name"},
            {"{\"revision\":\"default/fn\",\"podId\":7,\"address\":\"" + addr + "\",\"state\":\"ready\"}", "must be a string"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(c[0], TOKEN);
            assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
            assertThat(r.body()).as(c[0]).contains(c[1]);
        }
        HttpResponse<String> unknown = post("{\"revision\":\"default/other\",\"podId\":\"p1\",\"address\":\"" + addr
                + "\",\"state\":\"ready\"}", TOKEN);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("unknown revision default/other");
        assertThat(sluice.control().flush(REV)).succeedsWithin(Duration.ofSeconds(5));
        assertThat(throttler().table().size()).isZero();
        assertThat(get("/v1/pods").statusCode()).isEqualTo(405);
        assertThat(get("/nope").statusCode()).isEqualTo(404);
    }

    @Test
    void healthAndReadinessFollowTheLifecycle() throws Exception {
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        CompletableFuture<Integer> stopping = CompletableFuture.supplyAsync(
                () -> sluice.shutdown(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/readyz").statusCode() == 503);
        assertThat(get("/healthz").statusCode()).as("still alive while draining").isEqualTo(200);
        assertThat(stopping).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(0);
    }

    @Test
    void refusesToExposeAnUnauthenticatedControlApiBeyondLoopback() {
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '0.0.0.0:0'}\n";
        assertThatThrownBy(() -> SluiceServer.builder(ConfigLoader.parse("t.yaml", yaml)).ioThreads(1).start())
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("refusing to start the control API on 0.0.0.0:0 without a token");
    }

    @Test
    void pendingNoLongerTakesAReadyPodOutOfRotation() throws Exception {
        assertThat(post(report("ready"), TOKEN).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().capacity() == 4);
        HttpResponse<String> r = post(report("pending"), TOKEN);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(sluice.control().flush(REV)).succeedsWithin(Duration.ofSeconds(5));
        assertThat(throttler().table().find(pod.address()).state()).isEqualTo(PodState.READY);
        assertThat(throttler().capacity()).isEqualTo(4);
    }

    @Test
    void sluicesOwnListenAddressesAreNeverPods() throws Exception {
        int proxyPort = sluice.proxyAddress().getPort();
        int controlPort = sluice.controlAddress().getPort();
        for (String own : new String[] {"127.0.0.1:" + proxyPort, "127.0.0.1:" + controlPort,
            "localhost:" + proxyPort, "0.0.0.0:" + controlPort}) {
            HttpResponse<String> r = post(report("evil", own, "ready"), TOKEN);
            assertThat(r.statusCode()).as(own).isEqualTo(400);
            assertThat(r.body()).as(own).contains("is Sluice's own listen address");
        }
        assertThat(post(report("p1", "127.0.0.2:" + proxyPort, "not-ready"), TOKEN).statusCode())
                .as("another loopback address: a different socket").isEqualTo(200);
        assertThat(sluice.control().flush(REV)).succeedsWithin(Duration.ofSeconds(5));
        assertThat(throttler().table().find("127.0.0.1:" + proxyPort)).isNull();
    }

    @Test
    void aWildcardBindIsReachedThroughEveryLocalAddress() throws Exception {
        sluice.close();
        sluice = sluice("0.0.0.0", "");
        int proxyPort = sluice.proxyAddress().getPort();
        List<String> local = new ArrayList<>(List.of("127.0.0.1:" + proxyPort,
                "127.9.9.9:" + proxyPort, "[::1]:" + proxyPort, "[::]:" + proxyPort));
        NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                .filter(a -> a instanceof Inet4Address).findFirst()
                .ifPresent(a -> local.add(a.getHostAddress() + ":" + proxyPort));
        for (String own : local) {
            HttpResponse<String> r = post(report("evil", own, "ready"), TOKEN);
            assertThat(r.statusCode()).as(own).isEqualTo(400);
            assertThat(r.body()).as(own).contains("is Sluice's own listen address");
        }
        assertThat(post(report("p1", "192.0.2.7:" + proxyPort, "not-ready"), TOKEN).statusCode())
                .as("an address of another machine").isEqualTo(200);
    }

    @Test
    void withAllowedPodNetworksAnAddressOutsideThemIsRefused() throws Exception {
        sluice.close();
        sluice = sluice("127.0.0.1", ", allowedPodNetworks: ['127.0.0.0/8', 'fd00::/8']");
        HttpResponse<String> outside = post(report("p2", "192.0.2.7:8080", "ready"), TOKEN);
        assertThat(outside.statusCode()).isEqualTo(400);
        assertThat(outside.body()).contains("address 192.0.2.7:8080 is outside control.allowedPodNetworks"
                + " [127.0.0.0/8, fd00::/8]");
        HttpResponse<String> named = post(report("p2", "pod.example:8080", "ready"), TOKEN);
        assertThat(named.statusCode()).isEqualTo(400);
        assertThat(named.body()).contains("is a name, and control.allowedPodNetworks is set");
        assertThat(post(report("p3", "[fd00::7]:8080", "not-ready"), TOKEN).statusCode()).isEqualTo(200);
        assertThat(post(report("ready"), TOKEN).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().capacity() == 4);
        assertThat(throttler().table().find("192.0.2.7:8080")).isNull();
    }

    @Test
    void anUnknownRevisionIsA404WithItsReason() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.proxyAddress().getPort() + "/")).header("Sluice-Revision", "default/nope").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("Sluice-Reason")).hasValue("unknown-revision");
    }

    @Test
    void podsThatFailTheirReadinessCheckAreShownAndNamedInTheQueueTimeout() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        HttpServer sick = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        sick.createContext("/", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        sick.start();
        try {
            sluice.close();
            String dead = "127.0.0.1:" + closed;
            String sickAddress = "127.0.0.1:" + sick.getAddress().getPort();
            sluice = sluice("127.0.0.1", "", ", {name: dead, containerConcurrency: 1, timeouts: {queue: 1s},"
                    + " readinessPath: /ready, pods: ['" + dead + "', {address: '" + sickAddress + "', id: sick}]}");
            await().atMost(Duration.ofSeconds(10)).until(() -> get("/v1/revisions").body().contains("connection refused")
                    && get("/v1/revisions").body().contains("answered 503"));
            JsonNode views = new ObjectMapper()
                    .readTree(get("/v1/revisions").body());
            JsonNode pods = null;
            for (JsonNode r : views) {
                if (r.get("revision").asString().equals("default/dead")) {
                    pods = r.get("pods");
                }
            }
            assertThat(pods).hasSize(2);
            Map<String, String> seen = new TreeMap<>();
            for (JsonNode p : pods) {
                seen.put(p.get("podId").asString(), p.get("address").asString() + " " + p.get("state").asString() + " "
                        + p.get("lastCheck").get("result").asString() + ": " + p.get("lastCheck").get("error").asString());
            }
            assertThat(seen).containsExactly(
                    Map.entry(dead, dead + " validating failed: connection refused"),
                    Map.entry("sick", sickAddress + " validating failed: GET /ready answered 503"));

            HttpResponse<String> timedOut = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + sluice.proxyAddress().getPort() + "/")).header("Sluice-Revision", "default/dead").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(timedOut.statusCode()).isEqualTo(503);
            assertThat(timedOut.headers().firstValue("Sluice-Reason")).hasValue("queue-timeout");
            assertThat(timedOut.body()).startsWith("no pod of revision default/dead is ready: 2 validating, last error: ")
                    .endsWith(" (waited 1s)\n");
        } finally {
            sick.stop(0);
        }
    }
}
