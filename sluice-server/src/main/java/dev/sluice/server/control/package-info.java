/**
 * The pod control API ({@link dev.sluice.server.control.ControlServer}): pods report their own
 * state, operators read views, Prometheus scrapes {@code /metrics}, Kubernetes probes
 * {@code /healthz} and {@code /readyz}. Also the HTTP readiness probe the control path uses to
 * validate pods ({@link dev.sluice.server.control.HttpReadinessCheck}).
 *
 * <p>Start reading at {@link dev.sluice.server.control.ControlServer}; where a reported pod may be
 * is {@link dev.sluice.server.control.PodAddressRule}, and who may report without Kubernetes
 * {@link dev.sluice.server.control.StaticTokenAuthenticator}.
 */
package dev.sluice.server.control;
