/**
 * Prometheus metrics. Start reading at {@link dev.sluice.server.metrics.SluiceMetrics}: it holds
 * the registry, takes the control path's hooks, and reads queue, capacity and per-pod in-flight
 * at scrape time; {@link dev.sluice.server.metrics.Outcome} names how each request ended.
 */
package dev.sluice.server.metrics;
