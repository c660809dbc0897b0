package dev.sluice.server.demo;

import java.util.Arrays;

/** Client-side latencies of the last second, for the live table's p50 / p99. Thread-safe. */
final class LatencyWindow {

    private long[] samples = new long[4096];
    private int n;

    synchronized void add(long nanos) {
        if (n == samples.length) {
            samples = Arrays.copyOf(samples, n * 2);
        }
        samples[n++] = nanos;
    }

    /** Count, p50 and p99 (ms) since the last call, and starts a new window. */
    synchronized double[] drain() {
        long[] s = Arrays.copyOf(samples, n);
        int count = n;
        n = 0;
        if (count == 0) {
            return new double[] {0, 0, 0};
        }
        Arrays.sort(s);
        return new double[] {count, s[count / 2] / 1e6, s[Math.min(count - 1, (int) (count * 0.99))] / 1e6};
    }
}
