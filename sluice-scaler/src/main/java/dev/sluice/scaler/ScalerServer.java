package dev.sluice.scaler;

import dev.sluice.scaler.proto.ExternalScalerGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server KEDA calls: {@link ScalerService} on one port, over grpc-java's own (shaded)
 * Netty, apart from the proxy's event loops. Plaintext: KEDA reaches it inside the cluster,
 * and what it serves is read-only demand figures.
 */
public final class ScalerServer implements AutoCloseable {

    private final Server server;

    private ScalerServer(Server server) {
        this.server = server;
    }

    /** @throws IOException when the address cannot be bound (in use, not local) */
    public static ScalerServer start(InetSocketAddress address, ExternalScalerGrpc.AsyncService service)
            throws IOException {
        Server s = NettyServerBuilder.forAddress(address)
                .addService(ExternalScalerGrpc.bindService(service))
                // KEDA keeps StreamIsActive open for as long as the ScaledObject lives.
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .build().start();
        return new ScalerServer(s);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().get(0);
    }

    /** Stops accepting and ends open streams; waits up to a second for calls to finish. */
    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
