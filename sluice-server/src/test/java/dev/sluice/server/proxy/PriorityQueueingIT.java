package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
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
import org.junit.jupiter.api.Test;

/**
 * Priority classes, tenant caps and preemption over real sockets: one pod with cc = 1 held
 * busy by a first request ({@link TestPod#hold()}), so everything after it waits in Sluice's
 * queue, in an order the test sets up step by step (each step awaited, never slept on). The
 * assertions are about which request the pod sees next, and what the refused ones are told.
 */
class PriorityQueueingIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    private SluiceServer sluice;
    private TestPod pod;
    private EventLoopGroup h2Group;

    @AfterEach
    void tearDown() throws Exception {
        if (h2Group != null) {
            h2Group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (pod != null) {
            pod.open();
        }
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // answered or not, the test is over; closing below ends the rest
            }
        }
        if (sluice != null) {
            sluice.close();
        }
        if (pod != null) {
            pod.close();
        }
    }

    /** Sluice with one held pod of cc = 1 and the given revision fields (a {@code queueing} section). */
    private void start(String revisionFields) throws Exception {
        pod = new TestPod("a", 1);
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml(revisionFields))).ioThreads(2).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == 1);
        pod.hold();
        send("/running");
        await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 1);
    }

    private String yaml(String revisionFields) {
        return "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, containerConcurrency: 1, readinessPath: /healthz,"
                + " pods: ['" + pod.address() + "'], " + revisionFields + "}\n";
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    /** Sends a GET with the given header pairs; returns its future answer. */
    private CompletableFuture<HttpResponse<String>> send(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sluice.proxyAddress().getPort()
                + path)).header("Sluice-Revision", "default/model").timeout(Duration.ofSeconds(60));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        CompletableFuture<HttpResponse<String>> f = client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
        sent.add(f);
        return f;
    }

    /** Opens an h2c connection (prior knowledge) and sends one GET stream; completes with its :status. */
    private CompletableFuture<String> h2Get(String path, String... headers) throws Exception {
        if (h2Group == null) {
            h2Group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        }
        Channel connection = H2StreamAnswer.connect(h2Group, sluice.proxyAddress());
        CompletableFuture<String> status = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (msg instanceof Http2HeadersFrame h && !status.isDone()) {
                        status.complete(h.headers().status().toString());
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
        }).open().sync().getNow();
        DefaultHttp2Headers head = new DefaultHttp2Headers();
        head.method("GET").path(path).scheme("http").authority("x").add("sluice-revision", "default/model");
        for (int i = 0; i < headers.length; i += 2) {
            head.add(headers[i], headers[i + 1]);
        }
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(head, true));
        return status;
    }

    private String control(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort()
                + path)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void anInteractiveRequestQueuedBehindBatchRequestsIsServedNext() throws Exception {
        start("queueing: {classes: [interactive, batch], rules: [{pathPrefix: /chat/, class: interactive}]}");
        for (int i = 0; i < 5; i++) {
            send("/batch/" + i, "Sluice-Priority", "batch");
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(1) == queued);
        }
        send("/vip", "Sluice-Priority", "platinum"); // not a class: the default (the last, batch)
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(1) == 6);
        send("/chat/1");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(0) == 1);
        assertThat(control("/v1/revisions").replaceAll("\\s", "")).contains("\"queueByClass\":[{\"class\":\"interactive\",\"queued\":1},"
                + "{\"class\":\"batch\",\"queued\":6}]");
        assertThat(control("/metrics")).contains(
                "sluice_queue_queued{class=\"interactive\",revision=\"default/model\",tenant=\"shared\"} 1.0",
                "sluice_queue_queued{class=\"batch\",revision=\"default/model\",tenant=\"shared\"} 6.0");

        pod.release(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 2);
        assertThat(pod.paths().get(1)).as("the interactive request goes before every batch one").isEqualTo("/chat/1");
        pod.open();
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(pod.paths().subList(2, 8)).as("batch in arrival order, with the unknown class among them")
                .containsExactly("/batch/0", "/batch/1", "/batch/2", "/batch/3", "/batch/4", "/vip");
        assertThat(pod.violations()).isZero();
    }

    @Test
    void anHttp2StreamIsClassifiedLikeAnHttp1Request() throws Exception {
        start("queueing: {classes: [interactive, batch]}");
        for (int i = 0; i < 3; i++) {
            send("/batch/" + i, "Sluice-Priority", "batch");
            int queued = i + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(1) == queued);
        }
        CompletableFuture<String> chat = h2Get("/h2/chat", "sluice-priority", "interactive", "sluice-tenant", "web");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(0) == 1);
        pod.release(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 2);
        assertThat(pod.paths().get(1)).isEqualTo("/h2/chat");
        pod.open();
        assertThat(chat.get(20, TimeUnit.SECONDS)).isEqualTo("200");
        assertThat(control("/metrics")).contains(
                "sluice_queue_class_wait_seconds_count{class=\"interactive\",revision=\"default/model\",tenant=\"web\"} 1");
    }

    @Test
    void aTenantAtItsCapIsRefusedWhileAnotherTenantStillQueues() throws Exception {
        start("overflowStatus: 429, queueing: {classes: [default], tenantCap: 2}");
        send("/a/1", "Sluice-Tenant", "a");
        send("/a/2", "Sluice-Tenant", "a");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 2);
        HttpResponse<String> third = send("/a/3", "Sluice-Tenant", "a").get(10, TimeUnit.SECONDS);
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(third.headers().firstValue("Sluice-Reason")).hasValue("tenant-queue-full");
        send("/b/1", "Sluice-Tenant", "b");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 3);
        assertThat(control("/metrics")).contains("sluice_queue_rejections_total{class=\"default\","
                + "reason=\"tenant-queue-full\",revision=\"default/model\",tenant=\"a\"} 1.0");
        pod.open();
        await().atMost(Duration.ofSeconds(20)).until(() -> pod.served() == 4);
    }

    @Test
    void aReloadAppliesTheQueueingSectionToRequestsThatArriveAfterIt() throws Exception {
        start("queueDepth: 100");
        assertThat(sluice.apply(ConfigLoader.parse("test.yaml",
                yaml("queueDepth: 100, queueing: {classes: [interactive, batch], tenantCap: 2}")))).isEmpty();
        assertThat(throttler().queuePolicy().tenantCap()).isEqualTo(2);
        send("/batch/1", "Sluice-Tenant", "a");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        send("/batch/2", "Sluice-Tenant", "a");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(1) == 2);
        HttpResponse<String> third = send("/batch/3", "Sluice-Tenant", "a").get(10, TimeUnit.SECONDS);
        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("Sluice-Reason")).hasValue("tenant-queue-full");
        send("/chat", "Sluice-Priority", "interactive", "Sluice-Tenant", "b");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queuedIn(0) == 1);
        assertThat(control("/v1/revisions").replaceAll("\\s", "")).contains("\"queueByClass\":[{\"class\":"
                + "\"interactive\",\"queued\":1},{\"class\":\"batch\",\"queued\":2}]");
        pod.release(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> pod.arrived() == 2);
        assertThat(pod.paths().get(1)).isEqualTo("/chat");
    }

    @Test
    void aHigherClassAtAFullQueueEvictsTheNewestLowerClassWaiterWith503Preempted() throws Exception {
        start("queueDepth: 2, queueing: {classes: [interactive, batch], preemption: true}");
        CompletableFuture<HttpResponse<String>> older = send("/batch/1", "Sluice-Priority", "batch");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        CompletableFuture<HttpResponse<String>> newer = send("/batch/2", "Sluice-Priority", "batch");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 2);
        HttpResponse<String> full = send("/batch/3", "Sluice-Priority", "batch").get(10, TimeUnit.SECONDS);
        assertThat(full.statusCode()).isEqualTo(503);
        assertThat(full.headers().firstValue("Sluice-Reason")).as("nothing lower to evict").hasValue("queue-full");

        send("/urgent", "Sluice-Priority", "interactive");
        HttpResponse<String> evicted = newer.get(10, TimeUnit.SECONDS);
        assertThat(evicted.statusCode()).isEqualTo(503);
        assertThat(evicted.headers().firstValue("Sluice-Reason")).hasValue("preempted");
        assertThat(older).isNotDone();
        assertThat(throttler().queuedIn(0)).isEqualTo(1);
        pod.open();
        assertThat(older.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(pod.paths()).containsExactly("/running", "/urgent", "/batch/1");
    }
}
