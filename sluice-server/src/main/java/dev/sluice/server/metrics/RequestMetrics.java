package dev.sluice.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One revision's request metrics, with the label lookups done once: the data point for each
 * (client protocol, outcome, status code) is cached on first use, so recording a request
 * allocates nothing. The protocol label has two values, {@code http1} and {@code h2} (an
 * HTTP/2 stream is counted as a request).
 */
public final class RequestMetrics {

    private static final int CODES = 600;

    private final String revision;
    private final Counter requests;
    private final Counter rejections;
    private final AtomicReferenceArray<CounterDataPoint> byOutcomeAndCode;
    private final CounterDataPoint[] rejectionsByOutcome;
    private final DistributionDataPoint queueWait;
    private final DistributionDataPoint duration;
    private final LongAdder http1Requests = new LongAdder();
    private final LongAdder h2Requests = new LongAdder();

    RequestMetrics(String revision, Counter requests, Counter rejections, DistributionDataPoint queueWait,
            DistributionDataPoint duration) {
        this.revision = revision;
        this.requests = requests;
        this.rejections = rejections;
        this.byOutcomeAndCode = new AtomicReferenceArray<>(2 * Outcome.values().length * CODES);
        this.rejectionsByOutcome = new CounterDataPoint[Outcome.values().length];
        this.queueWait = queueWait;
        this.duration = duration;
    }

    /**
     * A request ended with {@code code}, for {@code outcome}, after {@code nanos};
     * {@code http2}: it was an HTTP/2 stream.
     */
    public void completed(Outcome outcome, int code, long nanos, boolean http2) {
        int c = code < 0 || code >= CODES ? 0 : code;
        int i = ((http2 ? Outcome.values().length : 0) + outcome.ordinal()) * CODES + c;
        CounterDataPoint p = byOutcomeAndCode.get(i);
        if (p == null) {
            p = requests.labelValues(revision, Integer.toString(c), outcome.wireName(), http2 ? "h2" : "http1");
            byOutcomeAndCode.lazySet(i, p);
        }
        p.inc();
        (http2 ? h2Requests : http1Requests).increment();
        duration.observe(nanos / 1e9);
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

    /** A request waited {@code nanos} in the queue before it got a pod. */
    public void queued(long nanos) {
        queueWait.observe(nanos / 1e9);
    }
}
