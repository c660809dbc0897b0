/**
 * Sluice's core: everything on a request's way from "a request for revision R arrived" to
 * "this pod's slot is reserved for it", and back. Depends on the JDK alone.
 *
 * <p>Starting points:
 * <ul>
 *   <li>{@link dev.sluice.core.throttle.RevisionThrottler}: admission for one revision
 *       (revision breaker, then a pod picked by a policy).</li>
 *   <li>{@link dev.sluice.core.pod.PodTable}: the sparse array of pod trackers with its
 *       availability index.</li>
 *   <li>{@link dev.sluice.core.balance.LoadBalancingPolicy}: the five policies.</li>
 *   <li>{@link dev.sluice.core.NanoClock}: the injected clock every timeout reads.</li>
 * </ul>
 */
package dev.sluice.core;
