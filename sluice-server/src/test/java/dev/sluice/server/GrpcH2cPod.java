package dev.sluice.server;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A grpc-java server on loopback (h2c), the pod of the HTTP/2 tests: {@code test.Echo} with
 * one method per call kind ({@link GrpcCalls}) and the gRPC health service's
 * {@code Check} (SERVING, or NOT_SERVING after {@link #notServing()}). Unary calls can be
 * held ({@link #hold()}, answered by {@link #open()}) to see how many run at once, and it
 * counts those the client cancelled.
 */
public final class GrpcH2cPod implements AutoCloseable {

    private static final byte[] SERVING = {0x08, 0x01};
    private static final byte[] NOT_SERVING = {0x08, 0x02};

    private final String name;
    private final Server server;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger arrived = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private final List<Runnable> waiting = new ArrayList<>();
    private boolean held;
    private volatile boolean serving = true;

    /** {@code maxStreams}: the SETTINGS_MAX_CONCURRENT_STREAMS it announces (0: grpc-java's default). */
    public GrpcH2cPod(String name, int maxStreams) throws IOException {
        this.name = name;
        ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
                .addMethod(GrpcCalls.UNARY, ServerCalls.asyncUnaryCall(this::unary))
                .addMethod(GrpcCalls.SERVER_STREAM, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    for (int i = 0; i < Integer.parseInt(req); i++) {
                        out.onNext(name + ":" + i);
                    }
                    out.onCompleted();
                }))
                .addMethod(GrpcCalls.CLIENT_STREAM, ServerCalls.asyncClientStreamingCall((StreamObserver<String> out) -> new StreamObserver<String>() {
                    private final List<String> got = new ArrayList<>();

                    @Override
                    public void onNext(String value) {
                        got.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onNext(name + ":" + String.join(",", got));
                        out.onCompleted();
                    }
                }))
                .addMethod(GrpcCalls.BIDI, ServerCalls.asyncBidiStreamingCall((StreamObserver<String> out) -> new StreamObserver<String>() {
                    @Override
                    public void onNext(String value) {
                        out.onNext(name + ":" + value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .build();
        ServerServiceDefinition health = ServerServiceDefinition.builder("grpc.health.v1.Health")
                .addMethod(GrpcCalls.HEALTH_CHECK, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(serving ? SERVING : NOT_SERVING);
                    out.onCompleted();
                }))
                .build();
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(echo).addService(health);
        if (maxStreams > 0) {
            b.maxConcurrentCallsPerConnection(maxStreams);
        }
        server = b.build().start();
    }

    private void unary(String request, StreamObserver<String> out) {
        arrived.incrementAndGet();
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        ServerCallStreamObserver<String> call = (ServerCallStreamObserver<String>) out;
        AtomicBoolean finished = new AtomicBoolean();
        call.setOnCancelHandler(() -> {
            if (finished.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
                cancelled.incrementAndGet();
            }
        });
        Runnable answer = () -> {
            if (finished.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
                call.onNext(name + ":" + request);
                call.onCompleted();
            }
        };
        synchronized (this) {
            if (held) {
                // Answered later by open(), on its thread: this call's own executor stays free
                // to hear a cancellation meanwhile.
                waiting.add(answer);
                return;
            }
        }
        answer.run();
    }

    public String name() {
        return name;
    }

    public String address() {
        return "127.0.0.1:" + server.getPort();
    }

    public synchronized void hold() {
        held = true;
    }

    /** Answers the calls held, and every call from now. */
    public void open() {
        List<Runnable> now;
        synchronized (this) {
            held = false;
            now = new ArrayList<>(waiting);
            waiting.clear();
        }
        now.forEach(Runnable::run);
    }

    public void notServing() {
        serving = false;
    }

    public int inFlight() {
        return inFlight.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    public int arrived() {
        return arrived.get();
    }

    /** Unary calls the client (Sluice) cancelled. */
    public int cancelled() {
        return cancelled.get();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
