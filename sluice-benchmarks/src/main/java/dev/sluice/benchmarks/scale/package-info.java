/**
 * The scale benchmark: one Sluice process with N revisions × M pods, every pod a loopback
 * address answered by one test server. Not JMH: it starts the real launcher and reads the
 * process from outside (heap after a full GC, start-up time, failed checks, request latency).
 *
 * <p>Start at {@link dev.sluice.benchmarks.scale.ScaleBench} (run by {@code bench/scale.sh});
 * {@link dev.sluice.benchmarks.scale.LoopbackBackend} is the test server.
 */
package dev.sluice.benchmarks.scale;
