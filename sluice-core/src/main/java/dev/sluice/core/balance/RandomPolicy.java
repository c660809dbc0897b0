package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Uniform among pods with a free slot. Stateless and thread-safe: each call draws from the
 * calling thread's {@link ThreadLocalRandom}.
 */
final class RandomPolicy implements LoadBalancingPolicy {

    @Override
    public PodTracker select(PodTable table) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int s = Scans.randomAvailable(table, rnd);
        if (s < 0) {
            return null;
        }
        PodTracker t = table.tryReserveAt(s);
        return t != null ? t : Scans.reserveFrom(table, s + 1);
    }

    @Override
    public PolicyKind kind() {
        return PolicyKind.RANDOM;
    }
}
