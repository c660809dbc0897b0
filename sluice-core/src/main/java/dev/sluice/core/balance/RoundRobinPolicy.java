package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;

/**
 * The next pod with a free slot after the last one chosen.
 *
 * <h2>Implementation notes</h2>
 * The cursor is a plain int read and written without a lock or CAS: two threads that read
 * the same cursor may start their scans at the same pod, and then the tracker's CAS decides;
 * the loser moves on to the next pod with a free slot. A lost cursor update only repeats a
 * starting point; it never breaks the capacity rule, which lives in the trackers. Contending
 * on the cursor with a CAS would cost more than the rare repeat.
 */
final class RoundRobinPolicy implements LoadBalancingPolicy {

    private int cursor;

    @Override
    public PodTracker select(PodTable table) {
        PodTracker t = Scans.reserveFrom(table, cursor);
        if (t != null) {
            cursor = t.slot() + 1;
        }
        return t;
    }

    @Override
    public PolicyKind kind() {
        return PolicyKind.ROUND_ROBIN;
    }
}
