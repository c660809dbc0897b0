package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.RawConnection;
import dev.sluice.server.RawPod;
import dev.sluice.server.RawPod.Reply;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replay rule ({@link ReplayRule}) over real sockets: a pod that reads a request on a
 * kept-alive connection and closes it without answering. Each test first sends {@code /warm},
 * so that the request under test goes out on the pooled connection the pod then closes.
 */
class ReplayIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
    private SluiceServer sluice;
    private RawPod pod;

    @AfterEach
    void tearDown() {
        if (sluice != null) {
            sluice.close();
        }
        if (pod != null) {
            pod.close();
        }
    }

    /** The pod answers {@code /warm} and, after the first time, everything; the first other request it drops. */
    private void start() throws Exception {
        AtomicInteger dropped = new AtomicInteger();
        pod = new RawPod(line -> line.contains(" /warm ") || dropped.getAndIncrement() > 0
                ? Reply.keep(OK) : Reply.thenClose(""));
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                + " pods: ['" + pod.address() + "']}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(1).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    /** Sends {@code /warm} then {@code request} on one client connection; the second answer. */
    private String afterWarm(String request) throws Exception {
        try (RawConnection c = new RawConnection(sluice.proxyAddress().getPort())) {
            assertThat(c.send("GET /warm HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n\r\n").response())
                    .startsWith("HTTP/1.1 200");
            return c.send(request).response();
        }
    }

    private long seen(String requestLine) {
        return pod.requestLines().stream().filter(requestLine::equals).count();
    }

    @Test
    void aPostThePodReadAndDroppedIsNotSentAgain() throws Exception {
        start();
        // No body: such a request was sent twice before the rule (its body was "complete").
        String r = afterWarm("POST /infer HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 0\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 502").contains("Sluice-Reason: upstream-closed")
                .contains("closed the connection before answering").contains("Idempotency-Key");
        assertThat(seen("POST /infer HTTP/1.1")).as("the pod saw the POST once").isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        HttpResponse<String> next = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + sluice.proxyAddress().getPort() + "/next")).header("Sluice-Revision",
                "default/model").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(next.statusCode()).as("the slot is free").isEqualTo(200);
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + sluice.controlAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains(
                "sluice_requests_total{code=\"502\",protocol=\"http1\",reason=\"upstream-closed\",revision=\"default/model\"} 1");
    }

    @Test
    void aGetIsSentOnceMoreOnAFreshConnectionAndServed() throws Exception {
        start();
        String r = afterWarm("GET /read HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200").endsWith("ok\n");
        assertThat(seen("GET /read HTTP/1.1")).isEqualTo(2);
    }

    @Test
    void aPostWithAnIdempotencyKeyIsSentOnceMore() throws Exception {
        start();
        String r = afterWarm("POST /infer HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "idempotency-KEY: 8e03978e-40d5\r\nContent-Length: 0\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200");
        assertThat(seen("POST /infer HTTP/1.1")).isEqualTo(2);
    }

    @Test
    void aBufferedPostWithABodyIsSentOnceMoreOnlyWithAnIdempotencyKey() throws Exception {
        start();
        String without = afterWarm("POST /infer HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Content-Length: 5\r\n\r\nhello");
        assertThat(without).startsWith("HTTP/1.1 502").contains("Sluice-Reason: upstream-closed");
        assertThat(seen("POST /infer HTTP/1.1")).isEqualTo(1);
        sluice.close();
        pod.close();
        start();
        String with = afterWarm("POST /infer HTTP/1.1\r\nHost: x\r\nSluice-Revision: default/model\r\n"
                + "Idempotency-Key: 42\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(with).as("the buffered body was kept for the replay").startsWith("HTTP/1.1 200");
        assertThat(seen("POST /infer HTTP/1.1")).isEqualTo(2);
    }

    @Test
    void theRuleReadsTheMethodAndTheKeyFromTheHeadBytes() {
        assertThat(ReplayRule.safeMethod(buf("GET / HTTP/1.1\r\n\r\n"))).isTrue();
        assertThat(ReplayRule.safeMethod(buf("OPTIONS * HTTP/1.1\r\n\r\n"))).isTrue();
        assertThat(ReplayRule.safeMethod(buf("GETX / HTTP/1.1\r\n\r\n"))).isFalse();
        assertThat(ReplayRule.safeMethod(buf("get / HTTP/1.1\r\n\r\n"))).as("methods are case-sensitive").isFalse();
        assertThat(ReplayRule.safeMethod(buf("POST / HTTP/1.1\r\n\r\n"))).isFalse();
        assertThat(ReplayRule.hasIdempotencyKey(buf("POST / HTTP/1.1\r\nIdempotency-Key: 1\r\n\r\n"))).isTrue();
        assertThat(ReplayRule.hasIdempotencyKey(buf("POST / HTTP/1.1\r\nX-Idempotency-Key: 1\r\n\r\n"))).isFalse();
        assertThat(ReplayRule.hasIdempotencyKey(buf("POST /Idempotency-Key: HTTP/1.1\r\n\r\n"))).isFalse();
    }

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }
}
