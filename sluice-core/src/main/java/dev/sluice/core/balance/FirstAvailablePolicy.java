package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;

/**
 * The lowest slot with a free slot. Packs requests onto the first pods, which keeps the
 * others idle for scale-down; with the availability index a pick costs one word scan per 64
 * slots however many pods are full. Stateless and thread-safe.
 */
final class FirstAvailablePolicy implements LoadBalancingPolicy {

    @Override
    public PodTracker select(PodTable table) {
        return Scans.reserveFrom(table, 0);
    }

    @Override
    public PolicyKind kind() {
        return PolicyKind.FIRST_AVAILABLE;
    }
}
