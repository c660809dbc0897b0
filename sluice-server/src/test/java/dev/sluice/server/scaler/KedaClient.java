package dev.sluice.server.scaler;

import dev.sluice.scaler.proto.ExternalScalerGrpc;
import dev.sluice.scaler.proto.IsActiveResponse;
import dev.sluice.scaler.proto.ScaledObjectRef;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Plays KEDA against Sluice's scaler port: a real gRPC channel, the calls KEDA makes. */
final class KedaClient implements AutoCloseable {

    /** One StreamIsActive message and when it arrived ({@link System#nanoTime()}). */
    record Message(boolean active, long arrivedNanos) {
    }

    private final ManagedChannel channel;
    final ExternalScalerGrpc.ExternalScalerBlockingStub blocking;
    private final ExternalScalerGrpc.ExternalScalerStub async;

    KedaClient(InetSocketAddress scaler) {
        channel = ManagedChannelBuilder.forAddress(scaler.getHostString(), scaler.getPort()).usePlaintext().build();
        blocking = ExternalScalerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        async = ExternalScalerGrpc.newStub(channel);
    }

    static ScaledObjectRef ref(String namespace, String name, String... metadata) {
        ScaledObjectRef.Builder b = ScaledObjectRef.newBuilder().setNamespace(namespace).setName(name);
        for (int i = 0; i < metadata.length; i += 2) {
            b.putScalerMetadata(metadata[i], metadata[i + 1]);
        }
        return b.build();
    }

    /** A fresh blocking stub with a 30 s deadline from now. */
    ExternalScalerGrpc.ExternalScalerBlockingStub call() {
        return ExternalScalerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Opens StreamIsActive; its messages (and, as a sentinel, its end) go to the queue returned. */
    Stream stream(ScaledObjectRef ref) {
        Stream s = new Stream();
        async.streamIsActive(ref, s);
        return s;
    }

    /** An open StreamIsActive as KEDA's push trigger holds it. */
    static final class Stream implements StreamObserver<IsActiveResponse> {
        final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
        volatile Throwable error;

        @Override
        public void onNext(IsActiveResponse value) {
            messages.add(new Message(value.getResult(), System.nanoTime()));
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
        }

        /** The next message, waiting up to {@code max}; fails the test if none comes. */
        Message next(Duration max) throws InterruptedException {
            Message m = messages.poll(max.toMillis(), TimeUnit.MILLISECONDS);
            if (m == null) {
                throw new AssertionError("no StreamIsActive message within " + max
                        + (error == null ? "" : "; the stream failed: " + error));
            }
            return m;
        }

        /** Skips heartbeats until a message with {@code active} arrives, within {@code max}. */
        Message until(boolean active, Duration max) throws InterruptedException {
            long end = System.nanoTime() + max.toNanos();
            for (;;) {
                long left = end - System.nanoTime();
                Message m = messages.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
                if (m == null) {
                    throw new AssertionError("no StreamIsActive " + active + " within " + max
                            + (error == null ? "" : "; the stream failed: " + error));
                }
                if (m.active() == active) {
                    return m;
                }
            }
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
