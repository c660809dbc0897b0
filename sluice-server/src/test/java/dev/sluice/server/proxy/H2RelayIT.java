package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.ScriptedH2cPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 relayed frames to frames ({@link H2Relay}): a bodiless request from an h2c client to an
 * h2c revision, with Netty's HTTP/2 client and scripted h2c pods. Its fields reach the pod as
 * they came (cookie crumbs apart, no {@code te} added: the HTTP/1.1 detour would join and add
 * them) with the forwarding fields appended; a large answer and its trailers come through the
 * pod's flow control; cc 1 with 4 pods and 32 streams on one connection never gives a pod two;
 * a client's reset frees the slot at once, on the pod and in the queue; the replay rule (a
 * refused stream and a lost connection go again for a GET, a reset POST does not); Sluice's
 * own answers (queue timeout, gRPC as gRPC); scale from zero; the connection's idle timeout;
 * shutdown's GOAWAY with the open stream finished.
 */
class H2RelayIT {

    private static final RevisionId REV = new RevisionId("default", "model");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<ScriptedH2cPod> pods = new ArrayList<>();
    private SluiceServer sluice;
    private Channel connection;
    /** Completes when the client's connection reads a GOAWAY. */
    private final CompletableFuture<Void> goAway = new CompletableFuture<>();

    private ScriptedH2cPod pod(String name, int maxStreams) throws Exception {
        ScriptedH2cPod p = new ScriptedH2cPod(name, "127.0.0." + (pods.size() + 2), maxStreams);
        pods.add(p);
        return p;
    }

    private void start(int cc, String extra, ScriptedH2cPod... ps) throws Exception {
        startWith("", cc, extra, ps);
    }

    /** Sluice with {@code top} (top-level sections) and one h2c revision of the pods. */
    private void startWith(String top, int cc, String extra, ScriptedH2cPod... ps) throws Exception {
        String list = Stream.of(ps).map(p -> "{address: '" + p.address() + "', id: " + p.name() + "}")
                .collect(Collectors.joining(", ", "[", "]"));
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n" + top
                + "revisions:\n  - {namespace: default, name: model, hosts: [model.test], containerConcurrency: " + cc
                + ", protocol: h2c, readinessPath: /healthz, pods: " + list + (extra.isEmpty() ? "" : ", " + extra)
                + "}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(1).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == ps.length);
        connection = H2StreamAnswer.connect(group, sluice.proxyAddress(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2GoAwayFrame) {
                    goAway.complete(null);
                }
                ReferenceCountUtil.release(msg);
            }
        });
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
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
        pods.forEach(ScriptedH2cPod::close);
    }

    /** A stream with its request sent; {@code answer} completes with what comes back. */
    private record Call(Http2StreamChannel stream, CompletableFuture<H2StreamAnswer> answer) {
        H2StreamAnswer get() throws Exception {
            return answer.get(20, TimeUnit.SECONDS);
        }

        void reset() {
            stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
        }
    }

    /** A stream with {@code head} sent, then {@code parts} of a body (none: the HEADERS end it). */
    private Call call(Http2Headers head, String... parts) throws Exception {
        CompletableFuture<H2StreamAnswer> answer = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                .handler(H2StreamAnswer.collector(answer))
                .open().sync().getNow();
        stream.write(new DefaultHttp2HeadersFrame(head, parts.length == 0));
        for (int i = 0; i < parts.length; i++) {
            stream.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(parts[i], StandardCharsets.UTF_8),
                    i == parts.length - 1));
        }
        stream.flush();
        return new Call(stream, answer);
    }

    private static Http2Headers post(String path) {
        return new DefaultHttp2Headers().method("POST").path(path).scheme("http").authority("model.test");
    }

    private static Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").path(path).scheme("http").authority("model.test");
    }

    @Test
    void aBodilessRequestReachesTheH2cPodWithItsFieldsAndItsAnswerComesBack() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(4, "", a);
        H2StreamAnswer r = call(get("/p?q=1").add("traceparent", "00-abc-01").add("cookie", "a=1").add("cookie", "b=2")
                .add("x-forwarded-for", "10.0.0.1")).get();
        assertThat(r.status()).isEqualTo("200");
        assertThat(r.body()).isEqualTo("a:ok");
        Http2Headers seen = a.requests().get(0);
        assertThat(seen.path()).hasToString("/p?q=1");
        assertThat(seen.authority()).hasToString("model.test");
        assertThat(seen.scheme()).hasToString("http");
        assertThat(seen.get("traceparent")).hasToString("00-abc-01");
        assertThat(seen.getAll("cookie")).extracting(Object::toString).containsExactly("a=1", "b=2");
        assertThat(seen.contains("te")).as("no te added: frames to frames, not the HTTP/1.1 detour").isFalse();
        assertThat(seen.get("x-forwarded-for")).hasToString("10.0.0.1, 127.0.0.1");
        assertThat(seen.get("forwarded")).hasToString("for=127.0.0.1;proto=http;host=\"model.test\"");
        call(get("/again").add("forwarded", "for=10.0.0.1")).get();
        assertThat(a.requests().get(1).get("forwarded"))
                .hasToString("for=10.0.0.1, for=127.0.0.1;proto=http;host=\"model.test\"");
        assertThat(a.requests().get(1).get("x-forwarded-for")).hasToString("127.0.0.1");
        H2StreamAnswer head = call(new DefaultHttp2Headers().method("HEAD").path("/").scheme("http").authority("model.test"))
                .get();
        assertThat(head.status()).isEqualTo("200");
        assertThat(head.body()).isEmpty();
    }

    @Test
    void aLargeAnswerAndItsTrailersComeThroughTheFlowControl() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(4, "", a);
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(call(get("/big")));
        }
        for (Call c : calls) {
            H2StreamAnswer r = c.get();
            assertThat(r.body()).hasSize(ScriptedH2cPod.BIG);
            assertThat(r.trailers().get("x-sum")).hasToString(Integer.toString(ScriptedH2cPod.BIG));
        }
    }

    @Test
    void ccOneFourPodsAndThirtyTwoStreamsOnOneConnectionNeverGiveAPodTwo() throws Exception {
        ScriptedH2cPod[] four = {pod("a", 100), pod("b", 100), pod("c", 100), pod("d", 100)};
        start(1, "", four);
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            calls.add(call(get("/hold")));
        }
        for (int served = 0; served < 32; served += 4) {
            int expected = served + 4;
            // Every pod holds one while the rest wait: none idle, none with two.
            await().atMost(Duration.ofSeconds(10)).until(() -> Stream.of(four).allMatch(p -> p.current() == 1)
                    && Stream.of(four).mapToInt(p -> p.requests().size()).sum() == expected);
            assertThat(throttler().queued()).isEqualTo(32 - expected);
            Stream.of(four).forEach(ScriptedH2cPod::release);
            int done = expected;
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.stream().filter(c -> c.answer().isDone()).count()
                    >= done);
        }
        for (Call c : calls) {
            assertThat(c.get().status()).isEqualTo("200");
        }
        assertThat(Stream.of(four).mapToInt(ScriptedH2cPod::most).max().orElseThrow()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aPodThatAllowsOneStreamGetsOneWhateverTheConcurrency() throws Exception {
        ScriptedH2cPod a = pod("a", 1);
        start(4, "", a);
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(call(get("/hold")));
        }
        for (int i = 1; i <= 4; i++) {
            int n = i;
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests().size() == n && a.current() == 1);
            a.release();
        }
        for (Call c : calls) {
            assertThat(c.get().status()).isEqualTo("200");
        }
        assertThat(a.most()).isEqualTo(1);
    }

    @Test
    void aClientsResetFreesTheSlotOnThePodAndItsPlaceInTheQueue() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "", a);
        Call first = call(get("/hold"));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.current() == 1);
        Call queued = call(get("/hold"));
        Call next = call(get("/after"));
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 2);
        queued.reset();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        first.reset();
        // The pod hears the reset, and the slot goes to the next stream at once.
        assertThat(next.get().body()).isEqualTo("a:ok");
        assertThat(a.cancelled()).isEqualTo(1);
        assertThat(a.requests()).extracting(h -> h.path().toString()).containsExactly("/hold", "/after");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aRefusedStreamAndALostConnectionGoAgainButAResetPostIsNotSentTwice() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(2, "", a);
        assertThat(call(get("/refuse-once")).get().body()).isEqualTo("a:ok");
        assertThat(call(get("/close")).get().body()).isEqualTo("a:ok");
        H2StreamAnswer post = call(new DefaultHttp2Headers().method("POST").path("/reset").scheme("http")
                .authority("model.test")).get();
        assertThat(post.status()).isEqualTo("502");
        assertThat(post.head().get("sluice-reason")).hasToString("upstream-closed");
        assertThat(post.body()).contains("not sent twice");
        H2StreamAnswer getReset = call(get("/reset")).get();
        assertThat(getReset.status()).isEqualTo("502");
        assertThat(a.requests()).extracting(h -> h.method() + " " + h.path()).containsExactly(
                "GET /refuse-once", "GET /refuse-once", "GET /close", "GET /close", "POST /reset", "GET /reset",
                "GET /reset");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aPostThePodsGoAwayLeftUnprocessedGoesAgainOnANewConnection() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "", a);
        Call c = call(post("/goaway-once"), "form");
        // The translated way: the GOAWAY retired the pod's connection before the stream heard
        // it was refused, so the POST went again on a new connection, not on the retired one.
        assertThat(c.get().body()).isEqualTo("a:ok");
        assertThat(a.bodies()).containsExactly("form", "form");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aCallThePodRefusedUnprocessedGoesAgainWithItsBody() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "", a);
        Call c = call(post("/refuse-once").set("content-type", "application/grpc"), "part one,", "part two");
        assertThat(c.get().body()).isEqualTo("a:ok");
        // REFUSED_STREAM: the pod did not act on it (RFC 9113 §8.7), so its kept body went again.
        assertThat(a.bodies()).containsExactly("part one,part two", "part one,part two");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void sluicesOwnAnswersAreHttp2AndAGrpcCallIsAnsweredAsGrpc() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "timeouts: {queue: 300ms}", a);
        Call first = call(get("/hold"));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.current() == 1);
        H2StreamAnswer late = call(get("/late")).get();
        assertThat(late.status()).isEqualTo("503");
        assertThat(late.head().get("sluice-reason")).hasToString("queue-timeout");
        assertThat(late.body()).contains("default/model");
        H2StreamAnswer grpc = call(new DefaultHttp2Headers().method("POST").path("/test.Echo/Unary").scheme("http")
                .authority("model.test").set("content-type", "application/grpc")).get();
        assertThat(grpc.status()).isEqualTo("200");
        assertThat(grpc.head().get("grpc-status")).hasToString("14");
        assertThat(grpc.head().get("sluice-reason")).hasToString("queue-timeout");
        assertThat(grpc.body()).isEmpty();
        a.release();
        assertThat(first.get().body()).isEqualTo("a:released");
        assertThat(a.requests()).hasSize(1);
    }

    @Test
    void streamsToARevisionWithNoPodWaitAndAreServedWhenAPodArrives() throws Exception {
        start(1, "");
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(call(get("/cold" + i)));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 3);
        ScriptedH2cPod a = pod("a", 100);
        sluice.control().report(new PodEvent(EventSource.POD, REV, a.name(), a.address(), PodState.READY))
                .get(5, TimeUnit.SECONDS);
        for (Call c : calls) {
            assertThat(c.get().body()).isEqualTo("a:ok");
        }
        assertThat(a.most()).isEqualTo(1);
    }

    @Test
    void aRelayedStreamIsClassifiedByItsFields() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "queueing: {classes: [interactive, batch], rules: [{pathPrefix: /chat/, class: interactive}]}", a);
        Call running = call(get("/hold").add("sluice-priority", "interactive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.current() == 1);
        List<Call> batch = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            batch.add(call(get("/batch/" + i).add("sluice-priority", "batch")));
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(1) == queued);
        }
        Call chat = call(get("/chat/1").add("sluice-tenant", "web"));
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(0) == 1);
        a.release();
        assertThat(running.get().status()).isEqualTo("200");
        assertThat(chat.get().status()).isEqualTo("200");
        for (Call c : batch) {
            assertThat(c.get().status()).isEqualTo("200");
        }
        assertThat(a.requests()).extracting(h -> h.path().toString())
                .as("the interactive stream goes before every batch one").containsExactly("/hold", "/chat/1",
                        "/batch/0", "/batch/1");
        assertThat(metrics()).contains(
                "sluice_queue_class_wait_seconds_count{class=\"interactive\",revision=\"default/model\",tenant=\"web\"} 1");
    }

    @Test
    void aPlainBodyTakesTheTranslatedWayAndArrivesWhole() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "", a);
        Call c = call(post("/form"), "hello ", "world");
        assertThat(c.get().body()).isEqualTo("a:ok");
        assertThat(a.bodies()).containsExactly("hello world");
        // Read whole first (client.requestBuffer), then sent as the HTTP/1.1 way writes it: te added.
        assertThat(a.requests().get(0).get("te")).hasToString("trailers");
    }

    @Test
    void aRelayedCallWhoseBodyStallsIsAnsweredAndItsPodStreamReset() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        startWith("client: {timeouts: {bodyStall: 300ms}}\n", 1, "", a);
        CompletableFuture<H2StreamAnswer> answer = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                .handler(H2StreamAnswer.collector(answer))
                .open().sync().getNow();
        stream.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").path("/test.Echo/Stream")
                .scheme("http").authority("model.test").set("content-type", "application/grpc")
                .set("te", "trailers"), false));
        stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 1, 'x'}), false));
        H2StreamAnswer r = answer.get(20, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo("200");
        assertThat(r.head().get("grpc-status")).hasToString("14");
        assertThat(r.head().get("sluice-reason")).hasToString("request-body-timeout");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().active() == 0 && a.cancelled() == 1);
        assertThat(metrics()).contains("sluice_client_timeouts_total{phase=\"body\"} 1");
    }

    @Test
    void anIdleConnectionIsClosedButNotWhileAStreamIsOpen() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        startWith("client: {timeouts: {idle: 300ms}}\n", 1, "", a);
        Call held = call(get("/hold"));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.current() == 1);
        // Nothing read from the client for well over the idle timeout, but a stream is open.
        await().during(Duration.ofMillis(900)).atMost(Duration.ofSeconds(5)).until(() -> connection.isActive());
        a.release();
        assertThat(held.get().body()).isEqualTo("a:released");
        await().atMost(Duration.ofSeconds(10)).until(() -> !connection.isActive());
        assertThat(metrics()).contains("sluice_client_timeouts_total{phase=\"idle\"} 1");
    }

    @Test
    void onShutdownAnOpenStreamFinishesWithinTheGrace() throws Exception {
        ScriptedH2cPod a = pod("a", 100);
        start(1, "", a);
        Call open = call(get("/hold"));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.current() == 1);
        CompletableFuture<Integer> shutdown = CompletableFuture.supplyAsync(
                () -> sluice.shutdown(Duration.ZERO, Duration.ofSeconds(30)));
        goAway.get(10, TimeUnit.SECONDS);
        assertThat(open.answer().isDone()).isFalse();
        a.release();
        assertThat(open.get().body()).isEqualTo("a:released");
        assertThat(shutdown.get(30, TimeUnit.SECONDS)).as("requests cut at the end of the grace").isZero();
    }

    private String metrics() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + sluice.controlAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
