package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices: two distinct random pods with a free slot; the one with fewer
 * requests in flight wins, ties broken at random. The winner is reserved through its CAS, so
 * capacity holds when cc &gt; 0; if it filled up meanwhile the other is tried, then a scan.
 * Stateless and thread-safe.
 */
final class PowerOfTwoChoicesPolicy implements LoadBalancingPolicy {

    @Override
    public PodTracker select(PodTable table) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int a = Scans.randomAvailable(table, rnd);
        if (a < 0) {
            return null;
        }
        int b = Scans.randomAvailable(table, rnd);
        if (b == a) {
            // Take the next candidate after a instead, so the two are distinct when two exist.
            b = table.nextAvailable(a + 1);
            if (b < 0) {
                b = table.nextAvailable(0);
            }
        }
        PodTracker ta = table.trackerAt(a);
        PodTracker tb = b >= 0 && b != a ? table.trackerAt(b) : null;
        int first = a;
        int second = b;
        if (ta != null && tb != null) {
            int la = ta.inFlight();
            int lb = tb.inFlight();
            if (lb < la || (lb == la && rnd.nextBoolean())) {
                first = b;
                second = a;
            }
        } else if (ta == null) {
            first = b;
            second = -1;
        }
        if (first >= 0) {
            PodTracker t = table.tryReserveAt(first);
            if (t != null) {
                return t;
            }
        }
        if (second >= 0 && second != first) {
            PodTracker t = table.tryReserveAt(second);
            if (t != null) {
                return t;
            }
        }
        return Scans.reserveFrom(table, a + 1);
    }

    @Override
    public PolicyKind kind() {
        return PolicyKind.POWER_OF_TWO_CHOICES;
    }
}
