package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.RawClient;
import dev.sluice.server.RawPod;
import dev.sluice.server.RawPod.Reply;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The response path end to end, with pods that send exactly the bytes a case needs
 * ({@link RawPod}): framing by close, refused responses, HEAD, informational responses,
 * HTTP/1.0 clients, and when a pod connection is not reused. {@link ResponseFramerTest} covers
 * the parser's cases one by one; this checks that Sluice answers, frees the pod and keeps or
 * closes each connection as the framing says.
 */
class ResponseFramingProxyIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
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

    private void start(Function<String, Reply> script) throws Exception {
        pod = new RawPod(script);
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                + " pods: ['" + pod.address() + "']}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sluice.proxyAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10)).header("Sluice-Revision", "default/model").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Sends raw bytes and reads until Sluice closes the connection (so the test also proves it closes). */
    private String raw(String request) throws Exception {
        return RawClient.exchange(sluice.proxyAddress().getPort(), request);
    }

    @Test
    void aBodyThatEndsAtCloseReachesTheClientWhichIsThenClosed() throws Exception {
        start(line -> Reply.thenClose("HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nbody until close"));
        // A kept-alive HTTP/1.1 client: it can only learn where the body ends by the close.
        String answer = raw("GET /x HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\n\r\n");
        assertThat(answer).as("in HTTP/1.1, Sluice's version").isEqualTo("HTTP/1.1 200 OK\r\nX-A: 1\r\nconnection: close\r\n\r\nbody until close");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aResponseThatCannotBeForwardedIs502AndThePodIsFreeAgain() throws Exception {
        start(line -> line.startsWith("GET /bad") ? Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                + "Content-Length: 7\r\n\r\nok") : Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"));
        HttpResponse<String> bad = get("/bad");
        assertThat(bad.statusCode()).isEqualTo(502);
        assertThat(bad.headers().firstValue("Sluice-Reason")).hasValue("upstream-error");
        assertThat(bad.body()).contains("sent a response Sluice cannot forward: Content-Length values disagree");
        HttpResponse<String> good = get("/good");
        assertThat(good.statusCode()).isEqualTo(200);
        assertThat(good.body()).isEqualTo("ok\n");
        assertThat(throttler().active()).isZero();
        assertThat(pod.connections()).as("the refused response's connection was not reused").isGreaterThanOrEqualTo(3);
    }

    @Test
    void aHeadAnswerHasNoBodyAndTheConnectionCarriesTheNextRequest() throws Exception {
        start(line -> line.startsWith("HEAD") ? Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
                : Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
        String answers = raw("HEAD /h HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\n\r\n"
                + "GET /g HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\nConnection: close\r\n\r\n");
        assertThat(answers).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\n\r\nhello");
        assertThat(pod.requestLines()).containsExactly("HEAD /h HTTP/1.1", "GET /g HTTP/1.1");
    }

    @Test
    void sluicesOwnAnswerToAHeadRequestHasNoBodyEither() throws Exception {
        start(line -> Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        String answers = raw("HEAD /h HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/nothing\r\n\r\n"
                + "GET /g HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\nConnection: close\r\n\r\n");
        assertThat(answers).startsWith("HTTP/1.1 404 Not Found\r\n");
        int second = answers.indexOf("HTTP/1.1 200 OK");
        assertThat(second).as("the 404 to HEAD carried no body, so the next answer follows its head: %s", answers)
                .isEqualTo(answers.indexOf("\r\n\r\n") + 4);
    }

    @Test
    void anHttp10ClientGetsAChunkedBodyDechunkedAndNoInformationalResponse() throws Exception {
        start(line -> Reply.keep("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"));
        String answer = raw("GET /c HTTP/1.0\r\nHost: h\r\nSluice-Revision: default/model\r\n\r\n");
        assertThat(answer).isEqualTo("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello world");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void anHttp11ClientGetsTheInformationalResponseAndTheChunksCanonical() throws Exception {
        String wire = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n";
        start(line -> Reply.keep(wire));
        String answer = raw("GET /c HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\nConnection: close\r\n\r\n");
        assertThat(answer).isEqualTo("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n");
    }

    @Test
    void aPodConnectionIsReusedOnlyWhenTheFramingAllowsIt() throws Exception {
        start(line -> line.startsWith("GET /both") ? Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
                : Reply.keep("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assertThat(get("/plain").body()).isEqualTo("ok");
        int afterFirst = pod.connections();
        assertThat(get("/plain").body()).isEqualTo("ok");
        assertThat(pod.connections()).as("a clean response: its connection carries the next request").isEqualTo(afterFirst);
        HttpResponse<String> both = get("/both");
        assertThat(both.body()).isEqualTo("ok");
        assertThat(both.headers().firstValue("content-length")).as("Transfer-Encoding wins; the length is dropped").isEmpty();
        assertThat(get("/plain").body()).isEqualTo("ok");
        assertThat(pod.connections()).as("both framings: that connection was closed, not pooled").isEqualTo(afterFirst + 1);
    }

    @Test
    void aPodsBrokenChunkFramingNeverReachesTheClientWhoseConnectionCloses() throws Exception {
        start(line -> line.startsWith("GET /trailer") ? Reply.keep("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2\r\nok\r\n0\r\nHTTP/1.1 200 OK\r\n\r\n")
                : line.startsWith("GET /bare") ? Reply.keep("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "2\nok\r\n0\r\n\r\n")
                : Reply.keep("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n"));
        String trailer = raw("GET /trailer HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\n\r\n");
        // The head counts as sent (the exchange cannot answer 502 any more): the client gets at
        // most the canonical bytes before the broken line, then the close (raw() returns on it).
        String good = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n";
        assertThat(good).as("a prefix of the canonical bytes, the bad line kept back").startsWith(trailer);
        String bare = raw("GET /bare HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\n\r\n");
        assertThat("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").startsWith(bare);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
        String noContent = raw("GET /nc HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\nConnection: close\r\n\r\n");
        assertThat(noContent).as("no Content-Length with a 204").isEqualTo("HTTP/1.1 204 No Content\r\nX-A: 1\r\n"
                + "connection: close\r\n\r\n");
    }

    @Test
    void anHttp10PodsAnswerReachesTheClientInHttp11WithoutAnAddedKeepAlive() throws Exception {
        start(line -> Reply.keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"));
        String answer = raw("GET /v HTTP/1.1\r\nHost: h\r\nSluice-Revision: default/model\r\nConnection: close\r\n\r\n");
        assertThat(answer).as("Sluice's version (RFC 9110 §6.2)")
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close\r\n\r\nok");
        HttpResponse<String> kept = get("/v");
        assertThat(kept.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(kept.headers().firstValue("connection")).as("keep-alive is HTTP/1.1's default").isEmpty();
        assertThat(kept.body()).isEqualTo("ok");
    }
}
