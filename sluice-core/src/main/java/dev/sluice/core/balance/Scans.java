package dev.sluice.core.balance;

import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.concurrent.ThreadLocalRandom;

/** Scans of the availability index shared by the policies. */
final class Scans {

    private Scans() {
    }

    /**
     * Reserves the first pod with a free slot at or after {@code start}, wrapping around once.
     *
     * @return the reserved tracker, or null if a full pass found none
     */
    static PodTracker reserveFrom(PodTable table, int start) {
        int len = table.length();
        if (len == 0) {
            return null;
        }
        if (start < 0 || start >= len) {
            start = 0;
        }
        for (int s = table.nextAvailable(start); s >= 0; s = table.nextAvailable(s + 1)) {
            PodTracker t = table.tryReserveAt(s);
            if (t != null) {
                return t;
            }
        }
        for (int s = table.nextAvailable(0); s >= 0 && s < start; s = table.nextAvailable(s + 1)) {
            PodTracker t = table.tryReserveAt(s);
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    /**
     * A slot whose availability bit is set, uniformly at random among them: one random probe
     * (cheap when most pods are free), else a rank drawn from the count of set bits. Reserves
     * nothing.
     *
     * @return a slot, or -1 if no bit is set
     */
    static int randomAvailable(PodTable table, ThreadLocalRandom rnd) {
        int len = table.length();
        if (len == 0) {
            return -1;
        }
        int s = rnd.nextInt(len);
        if (table.availableHint(s)) {
            return s;
        }
        int n = table.availableCount();
        return n == 0 ? -1 : table.nthAvailable(rnd.nextInt(n));
    }
}
