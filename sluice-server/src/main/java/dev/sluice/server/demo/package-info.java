/**
 * {@code sluice demo}: a first run in one command. {@link dev.sluice.server.demo.Demo} starts
 * simulated pods ({@link dev.sluice.server.demo.SimulatedPod}: real HTTP servers with a latency
 * distribution and their own concurrency limit), Sluice in front of them, and a load generator,
 * then shows a live table and a summary.
 */
package dev.sluice.server.demo;
