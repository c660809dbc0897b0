package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.RawClient;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The request path end to end over real sockets: what reaches the pod when a client sends a
 * chunked body, and what a client gets when its request is malformed: the status, the reason,
 * a closed connection, and nothing sent to the pod or left holding a slot.
 * {@link RequestFramerTest} covers the parser's cases one by one.
 */
class RequestFramingProxyIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private static final String TO_MODEL = "Host: x\r\nSluice-Revision: default/model\r\n";
    private SluiceServer sluice;
    private TestPod pod;

    @BeforeEach
    void setUp() throws Exception {
        pod = new TestPod("a", 1);
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                + " pods: [{address: '" + pod.address() + "', id: a}]}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
    }

    @AfterEach
    void tearDown() {
        sluice.close();
        pod.close();
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    private String raw(String request) throws Exception {
        return RawClient.exchange(sluice.proxyAddress().getPort(), request);
    }

    @Test
    void aChunkedBodyReachesThePodWhole() throws Exception {
        // No trailers here: the JDK's server behind (TestPod) refuses them; RequestFramerTest
        // shows they pass through.
        String answer = raw("POST /up HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "5;note=x\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 200");
        assertThat(pod.lastBody()).isEqualTo("hello world");
        assertThat(pod.lastHeaders()).containsEntry("transfer-encoding", "chunked").doesNotContainKey("content-length");
    }

    @Test
    void aChunkedBodySentInPiecesReachesThePodWhole() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sluice.proxyAddress().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            String wire = "POST /up HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + "a\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n";
            // Small writes with flushes: the reads on Sluice's side fall anywhere in the framing.
            for (int i = 0; i < wire.length(); i += 7) {
                out.write(wire.substring(i, Math.min(wire.length(), i + 7)).getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 200");
        }
        assertThat(pod.lastBody()).isEqualTo("0123456789!");
    }

    @Test
    void malformedRequestsGetTheirStatusAndReasonAndTheConnectionCloses() throws Exception {
        String[][] cases = {
            {"GET / HTTP/1.1\r\n" + TO_MODEL + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400",
                "both Content-Length and Transfer-Encoding"},
            {"GET / HTTP/2.0\r\n" + TO_MODEL + "\r\n", "505", "HTTP/2.0 is not supported"},
            {"POST / HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: gzip\r\n\r\n", "501", "last coding is not chunked"},
            {"POST / HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: chunked, chunked\r\n\r\n", "400", "chunked applied more than once"},
            {"POST / HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n", "400",
                "more than one Transfer-Encoding"},
            {"GET / HTTP/1.1\r\nSluice-Revision: default/model\r\n\r\n", "400", "an HTTP/1.1 request without Host"},
            {"GET /" + "a".repeat(5000) + " HTTP/1.1\r\n" + TO_MODEL + "\r\n", "414", "request line over 4096 bytes"},
            {"GET / HTTP/1.1\r\n" + TO_MODEL + "X-Big: " + "b".repeat(13_000) + "\r\n\r\n", "431", "request head over"},
        };
        for (String[] c : cases) {
            String answer = raw(c[0] + "GET /next HTTP/1.1\r\n" + TO_MODEL + "\r\n");
            assertThat(answer).as(c[2]).startsWith("HTTP/1.1 " + c[1] + " ").contains("connection: close")
                    .contains("Sluice-Reason: malformed-request").contains("malformed HTTP request: ").contains(c[2]).doesNotContain("HTTP/1.1 200");
        }
        assertThat(pod.arrived()).as("nothing malformed reached the pod").isZero();
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).as("each refusal counted by its status").contains(
                "sluice_refused_requests_total{code=\"400\"} 4", "sluice_refused_requests_total{code=\"505\"} 1",
                "sluice_refused_requests_total{code=\"501\"} 1", "sluice_refused_requests_total{code=\"414\"} 1",
                "sluice_refused_requests_total{code=\"431\"} 1");
    }

    @Test
    void aBodyThatBreaksItsChunkingMidwayIs400AndFreesThePod() throws Exception {
        String answer = raw("POST /up HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\nnot-a-size\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400 ").contains("Sluice-Reason: malformed-request")
                .contains("malformed HTTP request body: invalid chunk size");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        assertThat(raw("GET /after HTTP/1.1\r\n" + TO_MODEL + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
    }

    @Test
    void whatReachesThePodIsFramedCanonically() throws Exception {
        // The JDK's server behind (TestPod) reads neither "5, 5" nor an HTTP/1.2 request line.
        String lengths = raw("POST /cl HTTP/1.1\r\n" + TO_MODEL + "Content-Length: 5, 5\r\nContent-Length: 5\r\n"
                + "Connection: close\r\n\r\nhello");
        assertThat(lengths).startsWith("HTTP/1.1 200");
        assertThat(pod.lastBody()).isEqualTo("hello");
        assertThat(pod.lastHeaders()).containsEntry("content-length", "5");
        String later = raw("PUT /v HTTP/1.2\r\n" + TO_MODEL + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "5 ; a = \"b\"\r\nhello\r\n0\r\n\r\n");
        assertThat(later).startsWith("HTTP/1.1 200");
        assertThat(pod.lastBody()).isEqualTo("hello");
    }

    @Test
    void aTrailerThatIsARequestLineIs400AndNeverReachesThePod() throws Exception {
        String answer = raw("POST /up HTTP/1.1\r\n" + TO_MODEL + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\nGET /smuggled HTTP/1.1\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400 ").contains("malformed HTTP request body: a trailer line that is not"
                + " a header field");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        assertThat(pod.paths()).doesNotContain("/smuggled");
    }
}
