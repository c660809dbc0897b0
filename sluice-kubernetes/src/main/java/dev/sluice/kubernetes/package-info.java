/**
 * Sluice on Kubernetes: what the cluster tells Sluice, and whom Sluice believes. Start reading
 * at {@link dev.sluice.kubernetes.KubernetesDiscovery}.
 *
 * <ul>
 *   <li>{@link dev.sluice.kubernetes.KubernetesDiscovery} watches each revision's Service's
 *       EndpointSlices ({@link dev.sluice.kubernetes.ServiceWatch}) and hands every change to the
 *       control path as a snapshot; {@link dev.sluice.kubernetes.SliceTranslator} turns slices
 *       into pod states, with the pod UID as identity.</li>
 *   <li>{@link dev.sluice.kubernetes.PeerWatch} watches Sluice's own control Service's
 *       EndpointSlices (the same {@code ServiceWatch} and translation, read by
 *       {@code PeerView}) and hands the set of live replicas ({@link dev.sluice.kubernetes.Peer}:
 *       pod UID, IP, proxy and control ports) to the cluster logic.</li>
 *   <li>{@link dev.sluice.kubernetes.RevisionCatalog} finds revisions from Service labels
 *       instead of the config file, when asked to.</li>
 *   <li>{@link dev.sluice.kubernetes.TokenReviewAuthenticator} checks a pod's projected
 *       ServiceAccount token and lets a pod speak only for its own address.</li>
 * </ul>
 *
 * Depends on {@code sluice-core} and fabric8 (JDK HTTP client) only; the server wires it in.
 */
package dev.sluice.kubernetes;
