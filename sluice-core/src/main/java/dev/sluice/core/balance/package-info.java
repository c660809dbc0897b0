/**
 * Load-balancing policies: given a revision's {@link dev.sluice.core.pod.PodTable}, pick a pod
 * and reserve one of its slots.
 *
 * <p>Start with {@link dev.sluice.core.balance.LoadBalancingPolicy} (the contract) and
 * {@link dev.sluice.core.balance.PolicyKind} (the five policies, and the default for a given
 * containerConcurrency). Every policy finds candidates through the table's availability
 * index, checks the pod's state inline through the tracker's CAS, skips holes, and allocates
 * nothing.
 */
package dev.sluice.core.balance;
