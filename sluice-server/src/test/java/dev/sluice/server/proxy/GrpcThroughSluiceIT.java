package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.GrpcCalls;
import dev.sluice.server.GrpcHttp1Pod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * gRPC through Sluice over real sockets: grpc-java as the client (h2c with prior knowledge on
 * the proxy port), pods that speak gRPC over HTTP/1.1 ({@link GrpcHttp1Pod}), so each call is
 * an HTTP/2 stream translated to an HTTP/1.1 request, admitted and queued like any request.
 */
class GrpcThroughSluiceIT {

    private static final RevisionId REV = new RevisionId("default", "model");
    private static final Metadata.Key<String> SLUICE_REASON = Metadata.Key.of("sluice-reason",
            Metadata.ASCII_STRING_MARSHALLER);

    private final List<GrpcHttp1Pod> pods = new ArrayList<>();
    private SluiceServer sluice;
    private ManagedChannel channel;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (sluice != null) {
            sluice.close();
        }
        pods.forEach(GrpcHttp1Pod::close);
    }

    private GrpcHttp1Pod pod(String name) throws InterruptedException {
        GrpcHttp1Pod p = new GrpcHttp1Pod(name);
        pods.add(p);
        return p;
    }

    private void start(int cc, String extra, GrpcHttp1Pod... revisionPods) throws Exception {
        String podList = Stream.of(revisionPods).map(p -> "{address: '" + p.address() + "', id: " + p.name() + "}")
                .collect(Collectors.joining(", ", "[", "]"));
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, hosts: [model.test], containerConcurrency: " + cc
                + ", readinessPath: /healthz, pods: " + podList + (extra.isEmpty() ? "" : ", " + extra) + "}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2).start();
        int routable = revisionPods.length;
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().table().routableCount() == routable);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", sluice.proxyAddress().getPort()).usePlaintext()
                .overrideAuthority("model.test").build();
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    private static CallOptions deadline(long seconds) {
        return CallOptions.DEFAULT.withDeadlineAfter(seconds, TimeUnit.SECONDS);
    }

    private String unary(String message) {
        return ClientCalls.blockingUnaryCall(channel, GrpcCalls.UNARY, deadline(30), message);
    }

    private ListenableFuture<String> unaryAsync(String message, CallOptions options) {
        return ClientCalls.futureUnaryCall(channel.newCall(GrpcCalls.UNARY, options), message);
    }

    @Test
    void unaryAndServerStreamingCallsReachAnHttp1Revision() throws Exception {
        start(4, "", pod("a"));
        assertThat(unary("hello")).isEqualTo("a:hello");
        Iterator<String> replies = ClientCalls.blockingServerStreamingCall(channel, GrpcCalls.SERVER_STREAM,
                deadline(30), "3");
        List<String> all = new ArrayList<>();
        replies.forEachRemaining(all::add);
        assertThat(all).containsExactly("a:0", "a:1", "a:2");
        assertThat(throttler().active()).isZero();
        // Streams are counted as requests, by the client's protocol.
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + sluice.controlAddress().getPort();
        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains(
                "sluice_requests_total{code=\"200\",protocol=\"h2\",reason=\"proxied\",revision=\"default/model\"} 2");
        String revisions = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/revisions")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(revisions.replaceAll("\\s", "")).contains("\"protocol\":\"http1\"")
                .contains("\"requests\":{\"http1\":0,\"h2\":2}");
    }

    @Test
    void thirtyTwoStreamsOnOneConnectionNeverPutTwoCallsOnAPodWithConcurrencyOne() throws Exception {
        GrpcHttp1Pod[] four = {pod("a"), pod("b"), pod("c"), pod("d")};
        for (GrpcHttp1Pod p : four) {
            p.hold();
        }
        start(1, "queueDepth: 64", four);
        List<ListenableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            calls.add(unaryAsync("m" + i, deadline(60)));
        }
        // No pod idle while calls wait: each has one call, the other 28 queue in Sluice.
        await().atMost(Duration.ofSeconds(20)).until(() -> throttler().queued() == 28
                && Stream.of(four).allMatch(p -> p.inFlight() == 1));
        for (GrpcHttp1Pod p : four) {
            p.open();
        }
        for (ListenableFuture<String> c : calls) {
            assertThat(c.get(30, TimeUnit.SECONDS)).matches("[abcd]:m\\d+");
        }
        for (GrpcHttp1Pod p : four) {
            assertThat(p.maxInFlight()).as("calls at once on pod " + p.name()).isEqualTo(1);
        }
        assertThat(Stream.of(four).mapToInt(GrpcHttp1Pod::served).sum()).isEqualTo(32);
        assertThat(throttler().active()).isZero();
    }

    @Test
    void aCancelledCallFreesItsPlaceAndItsSlot() throws Exception {
        GrpcHttp1Pod a = pod("a");
        a.hold();
        start(1, "", a);
        ListenableFuture<String> first = unaryAsync("1", deadline(60));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        ListenableFuture<String> queued = unaryAsync("2", deadline(60));
        ListenableFuture<String> next = unaryAsync("3", deadline(60));
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 2);
        queued.cancel(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        // Cancelling the call on the pod aborts it there and hands the slot to the next one.
        first.cancel(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.aborted() == 1 && a.arrived() == 2);
        a.open();
        assertThat(next.get(10, TimeUnit.SECONDS)).isEqualTo("a:3");
        assertThat(a.arrived()).as("the call cancelled in the queue never reached the pod").isEqualTo(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void aDeadlineThatPassesInTheQueueEndsTheCallAndItsPlace() throws Exception {
        GrpcHttp1Pod a = pod("a");
        a.hold();
        start(1, "", a);
        ListenableFuture<String> first = unaryAsync("1", deadline(60));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        ListenableFuture<String> late = unaryAsync("2", CallOptions.DEFAULT.withDeadlineAfter(300,
                TimeUnit.MILLISECONDS));
        ExecutionException e = catchThrowableOfType(ExecutionException.class, () -> late.get(10, TimeUnit.SECONDS));
        Status status = Status.fromThrowable(e.getCause());
        assertThat(status.getCode()).isIn(Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE);
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().queued() == 0);
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("a:1");
        assertThat(a.arrived()).isEqualTo(1);
    }

    @Test
    void aFullQueueIsAnsweredAsGrpcUnavailableWithTheReason() throws Exception {
        GrpcHttp1Pod a = pod("a");
        a.hold();
        start(1, "queueDepth: 1", a);
        ListenableFuture<String> first = unaryAsync("1", deadline(60));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        ListenableFuture<String> queued = unaryAsync("2", deadline(60));
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        StatusRuntimeException full = catchThrowableOfType(StatusRuntimeException.class, () -> unary("3"));
        assertThat(full.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(full.getStatus().getDescription()).contains("queue of revision default/model is full");
        assertThat(full.getTrailers().get(SLUICE_REASON)).isEqualTo("queue-full");
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("a:1");
        assertThat(queued.get(10, TimeUnit.SECONDS)).isEqualTo("a:2");
    }

    @Test
    void inFourTwentyNineModeAFullQueueIsResourceExhausted() throws Exception {
        GrpcHttp1Pod a = pod("a");
        a.hold();
        start(1, "queueDepth: 0, overflowStatus: 429", a);
        ListenableFuture<String> first = unaryAsync("1", deadline(60));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        StatusRuntimeException full = catchThrowableOfType(StatusRuntimeException.class, () -> unary("2"));
        assertThat(full.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(full.getTrailers().get(SLUICE_REASON)).isEqualTo("queue-full");
        a.open();
        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("a:1");
    }

    @Test
    void callsToARevisionWithNoPodWaitAndAreServedWhenAPodArrives() throws Exception {
        start(1, "");
        List<ListenableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(unaryAsync("m" + i, deadline(60)));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 3);
        GrpcHttp1Pod a = pod("a");
        sluice.control().report(new PodEvent(EventSource.POD, REV, a.name(), a.address(), PodState.READY))
                .get(5, TimeUnit.SECONDS);
        for (ListenableFuture<String> c : calls) {
            assertThat(c.get(20, TimeUnit.SECONDS)).startsWith("a:m");
        }
    }

    @Test
    void anUnknownRevisionIsUnimplementedAndHttp1GrpcCallsGetGrpcAnswersToo() throws Exception {
        start(1, "", pod("a"));
        ManagedChannel elsewhere = ManagedChannelBuilder.forAddress("127.0.0.1", sluice.proxyAddress().getPort())
                .usePlaintext().overrideAuthority("nope.test").build();
        try {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(elsewhere, GrpcCalls.UNARY, deadline(10), "x"));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
            assertThat(e.getTrailers().get(SLUICE_REASON)).isEqualTo("unknown-revision");
        } finally {
            elsewhere.shutdownNow();
        }
        try (Socket s = new Socket("127.0.0.1", sluice.proxyAddress().getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /test.Echo/Unary HTTP/1.1\r\nHost: nope.test\r\ncontent-type: application/grpc\r\n"
                    + "content-length: 0\r\nconnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 200").containsIgnoringCase("grpc-status: 12")
                    .containsIgnoringCase("sluice-reason: unknown-revision");
        }
    }
}
