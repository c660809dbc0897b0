package dev.sluice.server.demo;

import dev.sluice.core.RevisionId;
import dev.sluice.scaler.proto.ExternalScalerGrpc;
import dev.sluice.scaler.proto.IsActiveResponse;
import dev.sluice.scaler.proto.ScaledObjectRef;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Plays KEDA for the demo: holds Sluice's {@code StreamIsActive} for one revision over real gRPC,
 * as KEDA's {@code external-push} trigger does, and hands each answer to the demo, which starts
 * pods when it hears "active". Answers arrive on a gRPC thread.
 */
final class KedaStandIn implements AutoCloseable {

    private final ManagedChannel channel;

    KedaStandIn(InetSocketAddress scaler, RevisionId revision, Consumer<Boolean> onAnswer) {
        channel = ManagedChannelBuilder.forAddress(scaler.getHostString(), scaler.getPort()).usePlaintext().build();
        ScaledObjectRef ref = ScaledObjectRef.newBuilder().setNamespace("keda").setName("demo")
                .putScalerMetadata("revision", revision.toString()).build();
        ExternalScalerGrpc.newStub(channel).streamIsActive(ref, new StreamObserver<>() {
            @Override
            public void onNext(IsActiveResponse value) {
                onAnswer.accept(value.getResult());
            }

            @Override
            public void onError(Throwable t) {
                // The demo is ending (the channel or Sluice closed).
            }

            @Override
            public void onCompleted() {
            }
        });
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
