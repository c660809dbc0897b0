package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.RawClient;
import dev.sluice.server.TestPod;
import dev.sluice.server.WebSocketEchoPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.platform.Transport;
import dev.sluice.server.runtime.SluiceServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy over real sockets: real pods on loopback, a real HTTP client, Sluice in between, on
 * the transport {@code auto} picks here ({@link ProxyOnEpollIT} and {@link ProxyOnNioIT} run
 * the same tests on the others).
 */
class ProxyIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private final List<TestPod> pods = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private SluiceServer sluice;

    @AfterEach
    void tearDown() {
        if (sluice != null) {
            sluice.close();
        }
        pods.forEach(TestPod::close);
    }

    /** The event-loop transport under test; subclasses run every test on the others. */
    Transport transport() {
        return Transport.best();
    }

    private TestPod pod(String name, int limit) throws Exception {
        TestPod p = new TestPod(name, limit);
        pods.add(p);
        return p;
    }

    /** Starts Sluice with one revision over the given pods; {@code extra} adds revision fields. */
    private void start(int cc, String extra, TestPod... revisionPods) throws Exception {
        start(NanoClock.system(), cc, extra, revisionPods);
    }

    /** As {@link #start(int, String, TestPod...)}, every timeout read on {@code clock}. */
    private void start(NanoClock clock, int cc, String extra, TestPod... revisionPods) throws Exception {
        String podList = Stream.of(revisionPods).map(p -> "{address: '" + p.address() + "', id: " + p.name() + "}")
                .collect(Collectors.joining(", ", "[", "]"));
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, hosts: [model.test], containerConcurrency: " + cc
                + ", readinessPath: /healthz, pods: " + podList + (extra.isEmpty() ? "" : ", " + extra) + "}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml))
                .ioThreads(2).transport(transport()).clock(clock).start();
        RevisionThrottler th = sluice.throttlers().get(REV);
        int routable = revisionPods.length;
        await().atMost(Duration.ofSeconds(10)).until(() -> th.table().routableCount() == routable);
    }

    private URI proxy(String path) {
        return URI.create("http://127.0.0.1:" + sluice.proxyAddress().getPort() + path);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(proxy(path)).timeout(Duration.ofSeconds(30)).header("Sluice-Revision", "default/model");
    }

    private CompletableFuture<HttpResponse<String>> send(HttpRequest.Builder b) {
        return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    @Test
    void proxiesARequestAndRewritesHeaders() throws Exception {
        TestPod a = pod("a", 4);
        start(4, "", a);
        HttpResponse<String> r = http.send(request("/hello").header("traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("a\n");
        assertThat(r.headers().firstValue("X-Pod")).hasValue("a");
        assertThat(a.lastHeaders()).containsEntry("x-forwarded-for", "127.0.0.1")
                .containsEntry("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assertThat(a.lastHeaders().get("forwarded")).startsWith("for=127.0.0.1;proto=http");
        assertThat(throttler().active()).isZero();
    }

    @Test
    void routesByHostAndByKnativeHeaders() throws Exception {
        TestPod a = pod("a", 4);
        start(4, "", a);
        HttpResponse<String> byKnative = http.send(HttpRequest.newBuilder(proxy("/")).header("Knative-Serving-Namespace",
                "default").header("Knative-Serving-Revision", "model").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(byKnative.statusCode()).isEqualTo(200);
        String raw = rawExchange("GET / HTTP/1.1\r\nHost: model.test:8080\r\nConnection: close\r\n\r\n");
        assertThat(raw).startsWith("HTTP/1.1 200");
    }

    @Test
    void anUnknownRevisionIsA404ThatSaysWhatWasLookedFor() throws Exception {
        start(1, "", pod("a", 1));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(proxy("/")).header("Sluice-Revision", "default/nope")
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("no revision 'default/nope'").contains("Sluice-Revision");
        HttpResponse<String> noHint = http.send(HttpRequest.newBuilder(proxy("/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(noHint.statusCode()).isEqualTo(404);
        assertThat(noHint.body()).contains("Host '127.0.0.1' is not configured");
    }

    @Test
    void ccOneNeverSendsASecondConcurrentRequestToAPod() throws Exception {
        TestPod a = pod("a", 1);
        TestPod b = pod("b", 1);
        start(1, "", a, b);
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(send(request("/work")));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertThat(f.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(a.violations() + b.violations()).isZero();
        assertThat(a.served() + b.served()).isEqualTo(200);
        assertThat(a.served()).as("both pods did work").isPositive();
        assertThat(b.served()).isPositive();
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0 && throttler().queued() == 0);
    }

    @Test
    void aFullQueueAnswers503WithTheReason() throws Exception {
        TestPod a = pod("a", 1);
        a.hold();
        start(1, "queueDepth: 1", a);
        CompletableFuture<HttpResponse<String>> first = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() == 1);
        CompletableFuture<HttpResponse<String>> second = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 1);
        HttpResponse<String> third = send(request("/")).get(10, TimeUnit.SECONDS);
        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("Sluice-Reason")).hasValue("queue-full");
        assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(third.body()).contains("queue of revision default/model is full");
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(second.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void overflowCanBeAnswered429() throws Exception {
        TestPod a = pod("a", 1);
        a.hold();
        start(1, "queueDepth: 0, overflowStatus: 429", a);
        CompletableFuture<HttpResponse<String>> first = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() == 1);
        HttpResponse<String> over = send(request("/")).get(10, TimeUnit.SECONDS);
        assertThat(over.statusCode()).isEqualTo(429);
        assertThat(over.headers().firstValue("Sluice-Reason")).hasValue("queue-full");
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aRequestThatWaitsTooLongGets503QueueTimeout() throws Exception {
        ManualClock clock = new ManualClock();
        TestPod a = pod("a", 1);
        a.hold();
        start(clock, 1, "timeouts: {queue: 300ms, total: 30s}", a);
        CompletableFuture<HttpResponse<String>> first = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() == 1);
        CompletableFuture<HttpResponse<String>> second = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 1);
        clock.advance(Duration.ofMillis(299));
        // The deadline sweep runs on the wall clock but reads the manual one: it finds nothing due.
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> !second.isDone());
        clock.advance(Duration.ofMillis(1));
        HttpResponse<String> waited = second.get(10, TimeUnit.SECONDS);
        assertThat(waited.statusCode()).isEqualTo(503);
        assertThat(waited.headers().firstValue("Sluice-Reason")).hasValue("queue-timeout");
        assertThat(throttler().queued()).isZero();
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aPodThatDoesNotAnswerInTimeGets504RequestTimeout() throws Exception {
        TestPod a = pod("a", 1);
        a.hold();
        start(1, "timeouts: {queue: 200ms, total: 400ms}", a);
        HttpResponse<String> r = send(request("/")).get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.headers().firstValue("Sluice-Reason")).hasValue("request-timeout");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        assertThat(throttler().table().find(a.address()).inFlight()).as("the slot is released").isZero();
        a.open();
    }

    @Test
    void aClientThatLeavesWhileQueuedFreesItsPlace() throws Exception {
        TestPod a = pod("a", 1);
        a.hold();
        start(1, "", a);
        CompletableFuture<HttpResponse<String>> first = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() == 1);
        try (Socket s = new Socket("127.0.0.1", sluice.proxyAddress().getPort())) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 0);
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        assertThat(a.arrived()).as("the departed client's request never reached the pod").isEqualTo(1);
    }

    @Test
    void aClientThatLeavesMidRequestReleasesTheSlotOnceThePodHasAnswered() throws Exception {
        TestPod a = pod("a", 1);
        a.hold();
        start(1, "", a);
        try (Socket s = new Socket("127.0.0.1", sluice.proxyAddress().getPort())) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() == 1);
        }
        // The pod works on regardless (it does not watch its connection): the slot is its until
        // it answers, to nobody (ClientLimitsIT shows the next request waiting meanwhile).
        a.open();
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        assertThat(send(request("/")).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void aDrainingPodGetsNothingNewAndFinishesWhatItHas() throws Exception {
        TestPod a = pod("a", 1);
        TestPod b = pod("b", 1);
        a.hold();
        b.hold();
        start(1, "policy: first-available", a, b);
        CompletableFuture<HttpResponse<String>> first = send(request("/"));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() + b.arrived() == 1);
        // Whichever pod validated first holds slot 0 and got the request: that one drains.
        TestPod busy = a.arrived() == 1 ? a : b;
        TestPod other = busy == a ? b : a;
        other.open();
        sluice.control().report(new PodEvent(EventSource.POD, REV,
                busy.name(), busy.address(), PodState.DRAINING)).get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = http.send(request("/").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo(other.name() + "\n");
        }
        assertThat(busy.arrived()).as("nothing new reached the draining pod").isEqualTo(1);
        busy.open();
        assertThat(first.get(10, TimeUnit.SECONDS).body()).as("it finished what it had").isEqualTo(busy.name() + "\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().table().find(busy.address()) == null);
    }

    @Test
    void aPodThatDiesCostsNoRequestThatHadNotReachedIt() throws Exception {
        TestPod a = pod("a", 0);
        TestPod b = pod("b", 0);
        start(8, "policy: round-robin", a, b);
        for (int i = 0; i < 10; i++) {
            assertThat(http.send(request("/").build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
        a.close();
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> r = http.send(request("/").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("request %d after the pod died", i).isEqualTo(200);
            assertThat(r.body()).isEqualTo("b\n");
        }
        await().atMost(Duration.ofSeconds(5)).until(
                () -> throttler().table().find(a.address()).state() == PodState.NOT_READY);
    }

    @Test
    void aChunkedResponseArrivesChunkByChunk() throws Exception {
        TestPod a = pod("a", 1);
        a.streamInTwoChunks();
        start(1, "", a);
        HttpResponse<InputStream> r = http.send(request("/stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        assertThat(in.readLine()).as("the first chunk arrives before the pod sends the second").isEqualTo("first");
        a.releaseChunk();
        assertThat(in.readLine()).isEqualTo("second");
        assertThat(in.readLine()).isNull();
    }

    @Test
    void hopByHopHeadersAreStripped() throws Exception {
        TestPod a = pod("a", 1);
        start(1, "", a);
        String raw = rawExchange("GET / HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Connection: close, X-Secret\r\nX-Secret: hop\r\nKeep-Alive: 5\r\nX-Kept: yes\r\n\r\n");
        assertThat(raw).startsWith("HTTP/1.1 200");
        assertThat(a.lastHeaders()).containsEntry("x-kept", "yes").doesNotContainKey("x-secret")
                .doesNotContainKey("keep-alive");
    }

    @Test
    void aRawPostBodyReachesThePod() throws Exception {
        TestPod a = pod("a", 1);
        start(1, "", a);
        String body = "y".repeat(200_000);
        String raw = rawExchange("POST / HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\nConnection: close\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body);
        assertThat(raw).startsWith("HTTP/1.1 200");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        TestPod a = pod("a", 1);
        start(1, "", a);
        String raw = rawExchange("GET /1 HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n\r\n"
                + "POST /2 HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /3 HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\nConnection: close\r\n\r\n");
        assertThat(raw.split("HTTP/1.1 200", -1)).as("three answers: %s", raw).hasSize(4);
        assertThat(a.paths()).containsExactly("/1", "/2", "/3");
        assertThat(a.violations()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aBodyThatArrivesWhileQueuedIsHeldBackUntilAPodIsFree() throws Exception {
        TestPod a = pod("a", 1);
        a.hold();
        start(1, "", a);
        CompletableFuture<HttpResponse<String>> first = send(request("/first"));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.arrived() == 1);
        int size = 32 << 20; // more than the socket buffers hold: the sender must block
        try (Socket s = new Socket("127.0.0.1", sluice.proxyAddress().getPort())) {
            s.setSoTimeout(30_000);
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(("POST /upload HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                            + "Connection: close\r\nContent-Length: " + size + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] block = new byte[64 << 10];
                    for (int sent = 0; sent < size; sent += block.length) {
                        out.write(block);
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 1);
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                    .alias("Sluice does not read the body of a request that waits for a pod")
                    .until(() -> !upload.isDone());
            a.open();
            upload.get(30, TimeUnit.SECONDS);
            String raw = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(raw).startsWith("HTTP/1.1 200");
        }
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(a.paths()).containsExactly("/first", "/upload");
        assertThat(a.lastBodyLength()).isEqualTo(size);
    }

    @Test
    void aPostBodyReachesThePod() throws Exception {
        TestPod a = pod("a", 1);
        start(1, "", a);
        HttpResponse<String> r = http.send(request("/").POST(HttpRequest.BodyPublishers.ofString("x".repeat(200_000)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(a.lastHeaders()).containsEntry("content-length", "200000");
    }

    @Test
    void shutdownUnderLoadLosesNoAcceptedRequest() throws Exception {
        TestPod a = pod("a", 2);
        TestPod b = pod("b", 2);
        a.hold();
        b.hold();
        start(2, "", a, b);
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            all.add(send(request("/")));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 8);
        CompletableFuture<Integer> stopped = CompletableFuture.supplyAsync(
                () -> sluice.shutdown(Duration.ofMillis(200), Duration.ofSeconds(20)));
        await().atMost(Duration.ofSeconds(5)).until(() -> !sluice.isReady());
        a.open();
        b.open();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(stopped.get(30, TimeUnit.SECONDS)).as("requests left when the grace period ended").isZero();
    }

    @Test
    void aWebSocketIsTunnelledAndHoldsItsPodSlotForItsLife() throws Exception {
        try (WebSocketEchoPod ws = new WebSocketEchoPod()) {
            String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                    + "revisions: [{namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                    + " timeouts: {queue: 1s, total: 2s}, pods: ['" + ws.address() + "']}]\n";
            sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml))
                    .ioThreads(2).transport(transport()).start();
            await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            WebSocket socket = http.newWebSocketBuilder().header("Sluice-Revision", "default/model")
                    .buildAsync(URI.create("ws://127.0.0.1:" + sluice.proxyAddress().getPort() + "/ws"),
                            new WebSocket.Listener() {
                                @Override
                                public CompletionStage<?> onText(WebSocket w,
                                        CharSequence data, boolean last) {
                                    received.add(data.toString());
                                    w.request(1);
                                    return null;
                                }
                            }).get(10, TimeUnit.SECONDS);
            socket.sendText("hello", true).get(5, TimeUnit.SECONDS);
            assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello");
            assertThat(throttler().active()).as("the slot is held while the socket is open").isEqualTo(1);
            // For longer than the 2 s request timeout the tunnel stays open and keeps its slot.
            await().during(Duration.ofMillis(2_500)).atMost(Duration.ofSeconds(5))
                    .until(() -> throttler().active() == 1);
            socket.sendText("still here", true).get(5, TimeUnit.SECONDS);
            assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: still here");
            HttpResponse<String> second = send(request("/")).get(10, TimeUnit.SECONDS);
            assertThat(second.statusCode()).as("cc = 1: a second request waits for the socket's slot")
                    .isEqualTo(503);
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        }
    }

    private String rawExchange(String request) throws Exception {
        return RawClient.exchange(sluice.proxyAddress().getPort(), request);
    }
}
