/**
 * A running Sluice. Start reading at {@link dev.sluice.server.runtime.SluiceServer}: its
 * {@code builder(config)} takes the options (clock, threads, timeouts) and {@code start()}
 * assembles the parts:
 * <ul>
 *   <li>{@link dev.sluice.server.runtime.RevisionRegistry}: the running revisions, one entry
 *       each, published to the proxy as one immutable routing table;</li>
 *   <li>{@link dev.sluice.server.runtime.ConfigReconciler}: turns the wanted revisions (file
 *       and Kubernetes catalogue) into running ones, at start and on every change;</li>
 *   <li>{@link dev.sluice.server.runtime.KubernetesWiring}: the client, EndpointSlice watches,
 *       catalogue and TokenReview, when the file has a {@code kubernetes} section;</li>
 *   <li>{@link dev.sluice.server.runtime.Lifecycle}: {@code /readyz} and the shutdown order
 *       (readiness off, drain, stop accepting, finish in-flight requests, close);</li>
 *   <li>{@link dev.sluice.server.runtime.ConfigWatcher}: reads {@code sluice.yaml} again when
 *       it changes.</li>
 * </ul>
 */
package dev.sluice.server.runtime;
