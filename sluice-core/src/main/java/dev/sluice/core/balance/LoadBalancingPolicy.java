package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;

/**
 * Picks a pod of a revision and reserves one slot on it.
 *
 * <p>Contract, checked for every implementation by one test suite: the returned tracker was
 * routable and below its capacity when its slot was reserved (the reservation is the tracker's
 * CAS, so capacity is never exceeded); null is returned only when, during the call, no
 * routable pod had a free slot. Implementations are thread-safe, take no lock and allocate
 * nothing; the caller releases the returned tracker exactly once.
 */
public interface LoadBalancingPolicy {

    /**
     * Picks a pod and reserves a slot on it.
     *
     * @return the reserved tracker, or null if no routable pod has a free slot
     */
    PodTracker select(PodTable table);

    /** Which policy this is. */
    PolicyKind kind();
}
