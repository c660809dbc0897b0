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
        int len = table.length();
        if (len == 0) {
            return null;
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int a;
        int b;
        int probe = rnd.nextInt(len);
        if (table.availableHint(probe)) {
            // Most pods free: random probes find candidates in O(1).
            a = probe;
            int second = rnd.nextInt(len);
            b = second != a && table.availableHint(second) ? second : nextDistinct(table, a);
        } else {
            // Few pods free: count the candidates once and draw two distinct ranks.
            int n = table.availableCount();
            if (n == 0) {
                return null;
            }
            int r1 = rnd.nextInt(n);
            a = table.nthAvailable(r1);
            if (n == 1) {
                b = -1;
            } else {
                int r2 = rnd.nextInt(n - 1);
                b = table.nthAvailable(r2 >= r1 ? r2 + 1 : r2);
            }
        }
        PodTracker ta = table.trackerAt(a);
        PodTracker tb = b >= 0 ? table.trackerAt(b) : null;
        int first = a;
        int other = b;
        if (ta != null && tb != null) {
            int la = ta.inFlight();
            int lb = tb.inFlight();
            if (lb < la || (lb == la && rnd.nextBoolean())) {
                first = b;
                other = a;
            }
        }
        if (first >= 0) {
            PodTracker t = table.tryReserveAt(first);
            if (t != null) {
                return t;
            }
        }
        if (other >= 0 && other != first) {
            PodTracker t = table.tryReserveAt(other);
            if (t != null) {
                return t;
            }
        }
        return a >= 0 ? Scans.reserveFrom(table, a + 1) : Scans.reserveFrom(table, 0);
    }

    /** The next candidate after {@code a}, wrapping; -1 if {@code a} is the only one. */
    private static int nextDistinct(PodTable table, int a) {
        int b = table.nextAvailable(a + 1);
        if (b < 0) {
            b = table.nextAvailable(0);
        }
        return b == a ? -1 : b;
    }

    @Override
    public PolicyKind kind() {
        return PolicyKind.POWER_OF_TWO_CHOICES;
    }
}
