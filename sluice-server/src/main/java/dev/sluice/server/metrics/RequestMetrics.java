package dev.sluice.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One revision's request metrics, with the label lookups done once: each data point (per
 * outcome and status code, and the two histograms) is made on first use and cached, so
 * recording a request allocates nothing, and a revision that never served a request holds no
 * data point at all (a few references, not the ~60 adders of two histograms). The requests
 * carry the client's protocol as a label, {@code http1} or {@code h2} (an HTTP/2 stream is
 * counted as a request).
 *
 * <h2>Implementation notes</h2>
 * Any event-loop thread records. The caches are written racily: two threads may both find a
 * slot empty and both ask the family for the data point, which returns the same one for the
 * same labels (the family's own map), so the race only repeats a lookup. Codes per outcome
 * are a handful: each outcome keeps a small copy-on-write array of (code, point) pairs,
 * replaced whole under a lock and read with one volatile load and a short scan.
 */
public final class RequestMetrics {

    /** The (code, data point) pairs seen for one outcome; replaced whole, never changed. */
    private static final class Codes {
        static final Codes EMPTY = new Codes(new int[0], new CounterDataPoint[0]);
        final int[] codes;
        final CounterDataPoint[] points;

        Codes(int[] codes, CounterDataPoint[] points) {
            this.codes = codes;
            this.points = points;
        }

        CounterDataPoint find(int code) {
            int[] c = codes;
            for (int i = 0; i < c.length; i++) {
                if (c[i] == code) {
                    return points[i];
                }
            }
            return null;
        }
    }

    private static final int CODES = 600;

    private final String revision;
    private final Counter requests;
    private final Counter rejections;
    private final Histogram queueWaitFamily;
    private final Histogram durationFamily;
    /** By client protocol and {@link Outcome} ({@link #slot}); null until that pair's first request. */
    private final AtomicReferenceArray<Codes> byOutcome = new AtomicReferenceArray<>(2 * Outcome.values().length);
    private final CounterDataPoint[] rejectionsByOutcome = new CounterDataPoint[Outcome.values().length];
    private volatile DistributionDataPoint queueWait;
    private volatile DistributionDataPoint duration;
    private final LongAdder http1Requests = new LongAdder();
    private final LongAdder h2Requests = new LongAdder();

    private final QueueMetrics queue;

    RequestMetrics(String revision, Counter requests, Counter rejections, Histogram queueWait, Histogram duration,
            QueueMetrics queue) {
        this.revision = revision;
        this.queue = queue;
        this.requests = requests;
        this.rejections = rejections;
        this.queueWaitFamily = queueWait;
        this.durationFamily = duration;
    }

    /**
     * A request ended with {@code code}, for {@code outcome}, after {@code nanos};
     * {@code http2}: it was an HTTP/2 stream.
     */
    public void completed(Outcome outcome, int code, long nanos, boolean http2) {
        int c = code < 0 || code >= CODES ? 0 : code;
        int slot = slot(outcome, http2);
        Codes seen = codesOf(slot);
        CounterDataPoint p = seen.find(c);
        if (p == null) {
            p = add(slot, outcome, c, http2);
        }
        p.inc();
        (http2 ? h2Requests : http1Requests).increment();
        DistributionDataPoint d = duration;
        if (d == null) {
            d = durationFamily.labelValues(revision);
            duration = d;
        }
        d.observe(nanos / 1e9);
        if (outcome != Outcome.PROXIED && outcome != Outcome.CLIENT_CLOSED) {
            CounterDataPoint r = rejectionsByOutcome[outcome.ordinal()];
            if (r == null) {
                r = rejections.labelValues(revision, outcome.wireName());
                rejectionsByOutcome[outcome.ordinal()] = r;
            }
            r.inc();
        }
    }

    /** Requests of this revision that ended, HTTP/2 streams ({@code http2}) or HTTP/1 requests. */
    public long completed(boolean http2) {
        return (http2 ? h2Requests : http1Requests).sum();
    }

    /** The revision's queue metrics by class and tenant (for a revision with a {@code queueing} section). */
    public QueueMetrics queue() {
        return queue;
    }

    /** A request waited {@code nanos} in the queue before it got a pod. */
    public void queued(long nanos) {
        DistributionDataPoint q = queueWait;
        if (q == null) {
            q = queueWaitFamily.labelValues(revision);
            queueWait = q;
        }
        q.observe(nanos / 1e9);
    }

    private static int slot(Outcome outcome, boolean http2) {
        return (http2 ? Outcome.values().length : 0) + outcome.ordinal();
    }

    private Codes codesOf(int slot) {
        Codes c = byOutcome.get(slot);
        return c == null ? Codes.EMPTY : c;
    }

    private CounterDataPoint add(int slot, Outcome outcome, int code, boolean http2) {
        synchronized (byOutcome) {
            Codes was = byOutcome.get(slot);
            Codes now = was == null ? Codes.EMPTY : was;
            CounterDataPoint p = now.find(code);
            if (p != null) {
                return p;
            }
            int n = now.codes.length;
            int[] codes = Arrays.copyOf(now.codes, n + 1);
            CounterDataPoint[] points = Arrays.copyOf(now.points, n + 1);
            codes[n] = code;
            points[n] = requests.labelValues(revision, Integer.toString(code), outcome.wireName(),
                    http2 ? "h2" : "http1");
            byOutcome.set(slot, new Codes(codes, points));
            return points[n];
        }
    }
}
