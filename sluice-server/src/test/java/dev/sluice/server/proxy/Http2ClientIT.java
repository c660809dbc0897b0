package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Plain HTTP/2 (not gRPC) on the proxy port, with Netty's HTTP/2 client (h2c, prior knowledge)
 * and an HTTP/1.1 pod: the request translated with its fields and body (of known length, or
 * chunked), HEAD, Sluice's own answers as HTTP/2, and HTTP/1.1 on the same port unchanged.
 */
class Http2ClientIT {

    private static final RevisionId REV = new RevisionId("default", "model");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private TestPod pod;
    private SluiceServer sluice;
    private Channel connection;

    @BeforeEach
    void start() throws Exception {
        pod = new TestPod("a", 4);
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n  - {namespace: default, name: model, hosts: [model.test], containerConcurrency: 4,"
                + " readinessPath: /healthz, pods: [{address: '" + pod.address() + "', id: a}]}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> sluice.throttlers().get(REV).table().routableCount() == 1);
        connection = H2StreamAnswer.connect(group, sluice.proxyAddress());
    }

    @AfterEach
    void stop() {
        if (connection != null) {
            connection.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        if (sluice != null) {
            sluice.close();
        }
        pod.close();
    }

    private H2StreamAnswer send(Http2Headers head, String... bodyParts) throws Exception {
        CompletableFuture<H2StreamAnswer> answer = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                .handler(H2StreamAnswer.collector(answer))
                .open().sync().getNow();
        stream.write(new DefaultHttp2HeadersFrame(head, bodyParts.length == 0));
        for (int i = 0; i < bodyParts.length; i++) {
            stream.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(bodyParts[i], StandardCharsets.UTF_8),
                    i == bodyParts.length - 1));
        }
        stream.flush();
        return answer.get(20, TimeUnit.SECONDS);
    }

    private static Http2Headers request(String method, String authority) {
        return new DefaultHttp2Headers().method(method).path("/p?q=1").scheme("http").authority(authority);
    }

    @Test
    void aRequestReachesAnHttp1PodWithItsFieldsAndItsAnswerComesBackAsHttp2() throws Exception {
        H2StreamAnswer a = send(request("GET", "model.test").add("traceparent", "00-abc-01").add("cookie", "a=1")
                .add("cookie", "b=2"));
        assertThat(a.status()).isEqualTo("200");
        assertThat(a.body()).isEqualTo("a\n");
        assertThat(a.head().get("x-pod")).hasToString("a");
        assertThat(pod.paths()).containsExactly("/p");
        assertThat(pod.lastHeaders()).containsEntry("traceparent", "00-abc-01").containsEntry("cookie", "a=1; b=2")
                .containsEntry("host", "model.test").containsEntry("x-forwarded-for", "127.0.0.1");
    }

    @Test
    void bodiesOfKnownAndUnknownLengthReachThePodWhole() throws Exception {
        H2StreamAnswer known = send(request("POST", "model.test").add("content-length", "11"), "hello ", "world");
        assertThat(known.status()).isEqualTo("200");
        assertThat(pod.lastBody()).isEqualTo("hello world");
        H2StreamAnswer streamed = send(request("POST", "model.test"), "one,", "two,", "three");
        assertThat(streamed.status()).isEqualTo("200");
        assertThat(pod.lastBody()).isEqualTo("one,two,three");
        assertThat(pod.lastHeaders()).containsEntry("transfer-encoding", "chunked");
    }

    @Test
    void headAndSluicesOwnAnswersAreHttp2Too() throws Exception {
        H2StreamAnswer head = send(request("HEAD", "model.test"));
        assertThat(head.status()).isEqualTo("200");
        assertThat(head.body()).isEmpty();
        H2StreamAnswer unknown = send(request("GET", "nope.test"));
        assertThat(unknown.status()).isEqualTo("404");
        assertThat(unknown.head().get("sluice-reason")).hasToString("unknown-revision");
        assertThat(unknown.head().contains("connection")).isFalse();
        assertThat(unknown.body()).contains("nope.test");
        // The same port still speaks HTTP/1.1.
        HttpResponse<String> h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + sluice.proxyAddress().getPort() + "/")).header("Sluice-Revision", "default/model").build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(h1.statusCode()).isEqualTo(200);
        assertThat(h1.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    }
}
