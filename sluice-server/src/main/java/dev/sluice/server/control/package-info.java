/**
 * The pod control API ({@link dev.sluice.server.control.ControlServer}): pods report their own
 * state, operators read views, Prometheus scrapes {@code /metrics}, Kubernetes probes
 * {@code /healthz} and {@code /readyz}. Also the HTTP readiness probe the control path uses to
 * validate pods ({@link dev.sluice.server.control.HttpReadinessCheck}).
 */
package dev.sluice.server.control;
