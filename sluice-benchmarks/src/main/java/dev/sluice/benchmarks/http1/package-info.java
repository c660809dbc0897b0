/**
 * JMH benchmarks of the framers of {@code sluice-http1}, each against the Netty codec path it
 * replaced ({@link dev.sluice.benchmarks.http1.NettyHeadPath}, the baseline): one operation is
 * one request or response turned into the bytes the next hop gets.
 *
 * <p>Starting points: {@link dev.sluice.benchmarks.http1.RequestPathBenchmark} (client to pod),
 * {@link dev.sluice.benchmarks.http1.ResponsePathBenchmark} (pod to client).
 */
package dev.sluice.benchmarks.http1;
