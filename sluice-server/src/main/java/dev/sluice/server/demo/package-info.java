/**
 * {@code sluice demo}: a first run in one command. {@link dev.sluice.server.demo.Demo} starts
 * Sluice and a load generator against a revision with no pod; a stand-in for KEDA
 * ({@link dev.sluice.server.demo.KedaStandIn}) hears "active" on Sluice's scaler stream over
 * gRPC and starts simulated pods ({@link dev.sluice.server.demo.SimulatedPod}: real HTTP
 * servers with a latency distribution and their own concurrency limit) after a cold-start
 * delay; then a pod drains and one joins. It narrates each event, shows a live table and a
 * summary (the cold start, and that nothing was lost).
 */
package dev.sluice.server.demo;
