package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;

/**
 * Fewest requests in flight among pods with a free slot.
 *
 * <h2>Implementation notes</h2>
 * Scans the candidates (set availability bits) from a rotating start and stops early at a pod
 * with nothing in flight, since none can beat it; so idle pods cost one probe and ties are
 * spread over the pods rather than always going to the first. The worst case, every pod busy
 * and none full, reads every candidate's in-flight count once: O(pods with a free slot).
 * The winner is reserved through its CAS; if it filled up between the scan and the CAS the
 * scan is repeated a bounded number of times, then the first free pod is taken. The cursor
 * is a plain int for the same reason as in {@link RoundRobinPolicy}.
 */
final class LeastConnectionsPolicy implements LoadBalancingPolicy {

    private static final int ATTEMPTS = 3;

    private int cursor;

    @Override
    public PodTracker select(PodTable table) {
        int len = table.length();
        if (len == 0) {
            return null;
        }
        int start = cursor;
        if (start < 0 || start >= len) {
            start = 0;
        }
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int best = leastLoaded(table, start);
            if (best < 0) {
                return null;
            }
            PodTracker t = table.tryReserveAt(best);
            if (t != null) {
                cursor = best + 1;
                return t;
            }
        }
        return Scans.reserveFrom(table, start);
    }

    private static int leastLoaded(PodTable table, int start) {
        int best = -1;
        int bestLoad = Integer.MAX_VALUE;
        for (int pass = 0; pass < 2; pass++) {
            int from = pass == 0 ? start : 0;
            int to = pass == 0 ? Integer.MAX_VALUE : start;
            for (int s = table.nextAvailable(from); s >= 0 && s < to; s = table.nextAvailable(s + 1)) {
                PodTracker t = table.trackerAt(s);
                if (t == null) {
                    continue;
                }
                int load = t.inFlight();
                if (load < bestLoad) {
                    best = s;
                    bestLoad = load;
                    if (load == 0) {
                        return best;
                    }
                }
            }
        }
        return best;
    }

    @Override
    public PolicyKind kind() {
        return PolicyKind.LEAST_CONNECTIONS;
    }
}
