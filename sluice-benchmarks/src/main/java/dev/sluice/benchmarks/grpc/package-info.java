/**
 * gRPC through Sluice against direct: {@link dev.sluice.benchmarks.grpc.GrpcUnaryLatency}, a
 * plain driver (not JMH: it times whole calls over loopback sockets), run by {@code bench/grpc.sh}.
 */
package dev.sluice.benchmarks.grpc;
