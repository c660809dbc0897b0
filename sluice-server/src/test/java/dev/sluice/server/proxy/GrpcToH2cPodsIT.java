package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.GrpcCalls;
import dev.sluice.server.GrpcH2cPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * gRPC through Sluice to h2c pods (grpc-java servers, {@code protocol: h2c}, checked with the
 * gRPC health protocol): every call kind with its trailers, streams per pod bounded by
 * containerConcurrency and by the pod's own SETTINGS_MAX_CONCURRENT_STREAMS, cancellation
 * reaching the pod, and an HTTP/1.1 client's call translated to HTTP/2.
 */
class GrpcToH2cPodsIT {

    private static final RevisionId REV = new RevisionId("default", "model");

    private final List<GrpcH2cPod> pods = new ArrayList<>();
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
        pods.forEach(GrpcH2cPod::close);
    }

    private GrpcH2cPod pod(String name, int maxStreams) throws Exception {
        GrpcH2cPod p = new GrpcH2cPod(name, maxStreams);
        pods.add(p);
        return p;
    }

    private void start(int cc, String extra, GrpcH2cPod... revisionPods) throws Exception {
        String podList = Stream.of(revisionPods).map(p -> "{address: '" + p.address() + "', id: " + p.name() + "}")
                .collect(Collectors.joining(", ", "[", "]"));
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: model, hosts: [model.test], containerConcurrency: " + cc
                + ", protocol: h2c, readinessProbe: grpc, pods: " + podList + (extra.isEmpty() ? "" : ", " + extra)
                + "}\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", yaml)).ioThreads(2)
                .readinessTimeout(Duration.ofSeconds(5)).start();
        int routable = revisionPods.length;
        await().atMost(Duration.ofSeconds(20)).until(() -> throttler().table().routableCount() == routable);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", sluice.proxyAddress().getPort()).usePlaintext()
                .overrideAuthority("model.test").build();
    }

    private ManagedChannel channel() {
        if (channel == null) {
            channel = ManagedChannelBuilder.forAddress("127.0.0.1", sluice.proxyAddress().getPort()).usePlaintext()
                    .overrideAuthority("model.test").build();
        }
        return channel;
    }

    private RevisionThrottler throttler() {
        return sluice.throttlers().get(REV);
    }

    private static CallOptions deadline() {
        return CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private ListenableFuture<String> unaryAsync(String message) {
        return ClientCalls.futureUnaryCall(channel.newCall(GrpcCalls.UNARY, deadline()), message);
    }

    /** Collects a streaming call's answers; completes with them, or with its error. */
    private static final class Collector implements StreamObserver<String> {
        final List<String> got = new CopyOnWriteArrayList<>();
        final CompletableFuture<List<String>> done = new CompletableFuture<>();

        @Override
        public void onNext(String value) {
            got.add(value);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            done.complete(got);
        }
    }

    @Test
    void allFourCallKindsPassWithTheirTrailers() throws Exception {
        start(4, "", pod("a", 0));
        assertThat(ClientCalls.blockingUnaryCall(channel, GrpcCalls.UNARY, deadline(), "hello")).isEqualTo("a:hello");

        Iterator<String> stream = ClientCalls.blockingServerStreamingCall(channel, GrpcCalls.SERVER_STREAM,
                deadline(), "3");
        List<String> all = new ArrayList<>();
        stream.forEachRemaining(all::add);
        assertThat(all).containsExactly("a:0", "a:1", "a:2");

        Collector collected = new Collector();
        StreamObserver<String> up = ClientCalls.asyncClientStreamingCall(
                channel.newCall(GrpcCalls.CLIENT_STREAM, deadline()), collected);
        up.onNext("x");
        up.onNext("y");
        up.onNext("z");
        up.onCompleted();
        assertThat(collected.done.get(20, TimeUnit.SECONDS)).containsExactly("a:x,y,z");

        // Bidirectional: each answer comes back before the client sends the next message.
        Collector chat = new Collector();
        StreamObserver<String> talk = ClientCalls.asyncBidiStreamingCall(channel.newCall(GrpcCalls.BIDI, deadline()),
                chat);
        for (int i = 0; i < 3; i++) {
            talk.onNext("m" + i);
            int expected = i + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> chat.got.size() == expected);
        }
        talk.onCompleted();
        assertThat(chat.done.get(20, TimeUnit.SECONDS)).containsExactly("a:m0", "a:m1", "a:m2");
        await().atMost(Duration.ofSeconds(5)).until(() -> throttler().active() == 0);
    }

    @Test
    void thirtyTwoStreamsWithConcurrencyOneOnFourPods() throws Exception {
        GrpcH2cPod[] four = {pod("a", 0), pod("b", 0), pod("c", 0), pod("d", 0)};
        for (GrpcH2cPod p : four) {
            p.hold();
        }
        start(1, "queueDepth: 64", four);
        List<ListenableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            calls.add(unaryAsync("m" + i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> throttler().queued() == 28
                && Stream.of(four).allMatch(p -> p.inFlight() == 1));
        for (GrpcH2cPod p : four) {
            p.open();
        }
        for (ListenableFuture<String> c : calls) {
            assertThat(c.get(30, TimeUnit.SECONDS)).matches("[abcd]:m\\d+");
        }
        for (GrpcH2cPod p : four) {
            assertThat(p.maxInFlight()).as("calls at once on pod " + p.name()).isEqualTo(1);
        }
        assertThat(Stream.of(four).mapToInt(GrpcH2cPod::arrived).sum()).isEqualTo(32);
    }

    @Test
    void aPodGetsNoMoreStreamsThanItsSettingsAllow() throws Exception {
        GrpcH2cPod a = pod("a", 1);
        a.hold();
        start(4, "", a);
        List<ListenableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(unaryAsync("m" + i));
        }
        // All four hold a slot of the revision (cc 4); the pod's own limit keeps three off it.
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().active() == 4 && a.inFlight() == 1);
        a.open();
        for (ListenableFuture<String> c : calls) {
            assertThat(c.get(30, TimeUnit.SECONDS)).startsWith("a:m");
        }
        assertThat(a.maxInFlight()).isEqualTo(1);
    }

    @Test
    void aCancelledCallIsCancelledOnThePodAndItsSlotServesTheNext() throws Exception {
        GrpcH2cPod a = pod("a", 0);
        a.hold();
        start(1, "", a);
        ListenableFuture<String> first = unaryAsync("1");
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        ListenableFuture<String> next = unaryAsync("2");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().queued() == 1);
        first.cancel(true);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.cancelled() == 1 && a.arrived() == 2);
        a.open();
        assertThat(next.get(10, TimeUnit.SECONDS)).isEqualTo("a:2");
    }

    @Test
    void onShutdownAnOpenStreamFinishesWithinTheGraceAndNoNewCallIsTaken() throws Exception {
        GrpcH2cPod a = pod("a", 0);
        a.hold();
        start(1, "", a);
        ListenableFuture<String> open = unaryAsync("1");
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        CompletableFuture<Integer> shutdown = CompletableFuture.supplyAsync(
                () -> sluice.shutdown(Duration.ZERO, Duration.ofSeconds(30)));
        int port = sluice.proxyAddress().getPort();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return false;
            } catch (IOException refused) {
                return true;
            }
        });
        // GOAWAY told the client its connection takes no new stream (grpc-java's channel leaves
        // READY while the open stream goes on); a new connection finds no listener.
        await().atMost(Duration.ofSeconds(10)).until(() -> channel.getState(false) != ConnectivityState.READY);
        assertThat(open.isDone()).isFalse();
        StatusRuntimeException late = catchThrowableOfType(StatusRuntimeException.class,
                () -> ClientCalls.blockingUnaryCall(channel, GrpcCalls.UNARY, deadline(), "2"));
        assertThat(late.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(a.arrived()).isEqualTo(1);
        a.open();
        assertThat(open.get(10, TimeUnit.SECONDS)).isEqualTo("a:1");
        assertThat(shutdown.get(30, TimeUnit.SECONDS)).as("requests cut at the end of the grace").isZero();
    }

    @Test
    void aPodThatGoesAwayMidCallAnswersTheCallAndFreesItsSlot() throws Exception {
        GrpcH2cPod a = pod("a", 0);
        a.hold();
        start(1, "", a);
        ListenableFuture<String> call = unaryAsync("1");
        await().atMost(Duration.ofSeconds(10)).until(() -> a.inFlight() == 1);
        a.close(); // GOAWAY, its streams reset, the connection closed
        ExecutionException e = catchThrowableOfType(ExecutionException.class, () -> call.get(20, TimeUnit.SECONDS));
        Status status = Status.fromThrowable(e.getCause());
        // Sluice's own answer: the call may have reached the pod and is not safe to repeat.
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(status.getDescription()).contains("before answering").contains("not sent twice");
        await().atMost(Duration.ofSeconds(10)).until(() -> throttler().active() == 0);
    }

    @Test
    void anHttp1ClientsCallIsTranslatedToHttp2AndGetsItsTrailers() throws Exception {
        start(1, "", pod("a", 0));
        byte[] message = "hi".getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket("127.0.0.1", sluice.proxyAddress().getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /test.Echo/Unary HTTP/1.1\r\nHost: model.test\r\ncontent-type: application/grpc\r\n"
                    + "te: trailers\r\ncontent-length: " + (5 + message.length) + "\r\nconnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 0, (byte) message.length});
            out.write(message);
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            String answer = got.toString(StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
                    .contains("a:hi").containsIgnoringCase("grpc-status: 0");
        }
    }

    @Test
    void aPodWhoseHealthSaysNotServingGetsNoCall() throws Exception {
        GrpcH2cPod a = pod("a", 0);
        GrpcH2cPod b = pod("b", 0);
        b.notServing();
        String podList = "[{address: '" + a.address() + "', id: a}, {address: '" + b.address() + "', id: b}]";
        sluice = SluiceServer.builder(ConfigLoader.parse("test.yaml", "listen: {proxy: '127.0.0.1:0', control:"
                + " '127.0.0.1:0'}\nrevisions:\n  - {namespace: default, name: model, hosts: [model.test],"
                + " containerConcurrency: 1, protocol: h2c, readinessProbe: grpc, pods: " + podList + "}\n"))
                .ioThreads(2).readinessTimeout(Duration.ofSeconds(5)).start();
        await().atMost(Duration.ofSeconds(20)).until(() -> sluice.control().checks(REV).stream()
                .anyMatch(c -> c.error() != null && c.error().contains("NOT_SERVING")));
        await().atMost(Duration.ofSeconds(20)).until(() -> throttler().table().routableCount() == 1);
        assertThat(throttler().table().find(b.address())).isNull();
        for (int i = 0; i < 4; i++) {
            assertThat(ClientCalls.blockingUnaryCall(channel(), GrpcCalls.UNARY, deadline(), "x")).isEqualTo("a:x");
        }
    }
}
