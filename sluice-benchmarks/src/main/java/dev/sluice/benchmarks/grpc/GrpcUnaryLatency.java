package dev.sluice.benchmarks.grpc;

import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The latency gRPC pays for going through Sluice: one grpc-java client calls a unary echo
 * method (16-byte messages) of one grpc-java server, directly and through an in-process
 * Sluice (a {@code protocol: h2c} revision, {@code readinessProbe: grpc}, one I/O thread), one
 * call at a time. The two paths alternate in blocks of {@link #BLOCK} calls, so that whatever
 * else the machine is doing falls on both alike; each prints p50, p90, p99 and the difference.
 *
 * <p>Usage: {@code GrpcUnaryLatency [--calls N] [--warmup N]} (defaults 20,000 and 20,000 per
 * path). Client, server and Sluice share one JVM (and its JIT), as on a loaded machine they
 * share its cores anyway; the figure is what the hop adds, not an absolute latency.
 */
public final class GrpcUnaryLatency {

    private static final int BLOCK = 100;

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("bench.Echo/Unary")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    /** {@code grpc.health.v1.Health/Check}: Sluice's readiness probe of the pod. */
    private static final MethodDescriptor<byte[], byte[]> HEALTH = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("grpc.health.v1.Health/Check")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    private static final byte[] SERVING = {0x08, 0x01};

    private GrpcUnaryLatency() {
    }

    public static void main(String[] args) throws Exception {
        int calls = 20_000;
        int warmup = 20_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--calls" -> calls = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (known: --calls N --warmup N)");
            }
        }
        Server pod = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerServiceDefinition.builder("bench.Echo")
                        .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
                            out.onNext(req);
                            out.onCompleted();
                        })).build())
                .addService(ServerServiceDefinition.builder("grpc.health.v1.Health")
                        .addMethod(HEALTH, ServerCalls.asyncUnaryCall((req, out) -> {
                            out.onNext(SERVING);
                            out.onCompleted();
                        })).build())
                .build().start();
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions:\n"
                + "  - {namespace: default, name: echo, hosts: [echo.test], containerConcurrency: 0, protocol: h2c,"
                + " readinessProbe: grpc, pods: ['127.0.0.1:" + pod.getPort() + "']}\n";
        SluiceServer sluice = SluiceServer.builder(ConfigLoader.parse("grpc-latency.yaml", yaml)).ioThreads(1).start();
        ManagedChannel direct = ManagedChannelBuilder.forAddress("127.0.0.1", pod.getPort()).usePlaintext().build();
        ManagedChannel through = ManagedChannelBuilder.forAddress("127.0.0.1", sluice.proxyAddress().getPort())
                .usePlaintext().overrideAuthority("echo.test").build();
        try {
            byte[] message = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
            // The first call through Sluice waits in its queue until the pod's first readiness check passes.
            run(through, message, new long[1], 0, 1);
            long[] unused = new long[warmup];
            runInterleaved(direct, through, message, unused, unused.clone());
            long[] d = new long[calls];
            long[] s = new long[calls];
            runInterleaved(direct, through, message, d, s);
            Arrays.sort(d);
            Arrays.sort(s);
            System.out.printf("gRPC unary, %d-byte messages, one call at a time, %d calls per path after %d warm-up%n",
                    message.length, calls, warmup);
            System.out.printf("%-8s %8s %8s %8s%n", "path", "p50 us", "p90 us", "p99 us");
            line("direct", d);
            line("sluice", s);
            System.out.printf("%-8s %8.1f %8.1f %8.1f%n", "added", (pct(s, .5) - pct(d, .5)) / 1e3,
                    (pct(s, .9) - pct(d, .9)) / 1e3, (pct(s, .99) - pct(d, .99)) / 1e3);
        } finally {
            direct.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            through.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            sluice.close();
            pod.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void runInterleaved(ManagedChannel direct, ManagedChannel through, byte[] message, long[] d,
            long[] s) {
        for (int at = 0; at < d.length; at += BLOCK) {
            int n = Math.min(BLOCK, d.length - at);
            run(direct, message, d, at, n);
            run(through, message, s, at, n);
        }
    }

    private static void run(ManagedChannel ch, byte[] message, long[] into, int at, int n) {
        for (int i = at; i < at + n; i++) {
            long t0 = System.nanoTime();
            byte[] answer = ClientCalls.blockingUnaryCall(ch, ECHO, CallOptions.DEFAULT.withDeadlineAfter(60,
                    TimeUnit.SECONDS), message);
            into[i] = System.nanoTime() - t0;
            if (answer.length != message.length) {
                throw new IllegalStateException("the echo answered " + answer.length + " bytes, not " + message.length);
            }
        }
    }

    private static double pct(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))];
    }

    private static void line(String name, long[] sorted) {
        System.out.printf("%-8s %8.1f %8.1f %8.1f%n", name, pct(sorted, .5) / 1e3, pct(sorted, .9) / 1e3,
                pct(sorted, .99) / 1e3);
    }
}
