/**
 * A running Sluice: {@link dev.sluice.server.runtime.SluiceServer} assembles the control path,
 * the proxy, the control API and the metrics from a configuration, and shuts them down in
 * order (readiness off, drain, stop accepting, finish in-flight requests, exit).
 */
package dev.sluice.server.runtime;
