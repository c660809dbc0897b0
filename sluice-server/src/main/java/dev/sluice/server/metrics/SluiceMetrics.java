package dev.sluice.server.metrics;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ControlMetrics;
import dev.sluice.core.control.PodAuthenticator;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.kubernetes.WatchStatus;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Sluice's Prometheus metrics. Per revision: queued, active, capacity, pods by state, requests
 * by outcome and code, rejections by reason, queue-wait and request-duration histograms (each
 * data point made on the revision's first request: a revision scaled to zero costs none); per
 * pod: in flight (read at scrape time, no work per request); from the control path: inbox
 * wait and processing time (process-wide, by operation), writer failures, state transitions, readiness validations, drain
 * deadlines, fragmentation; from Kubernetes discovery: whether each revision's watch is up,
 * and its failures; pod reports by authentication outcome; from the proxy port: client
 * timeouts by phase and connections refused past the cap; per revision, cold starts (from the
 * first request queued at zero pods to the first routable pod).
 */
public final class SluiceMetrics implements ControlMetrics, ClientMetrics {

    private static final double[] LATENCY_BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    private static final double[] CONTROL_BUCKETS = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1};
    /** Pods start in a second (a warm image) to minutes (a large image pulled, a JVM warming up). */
    private static final double[] COLD_START_BUCKETS = {0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90,
        120, 180, 300, 600};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter requests;
    private final Counter rejections;
    private final Counter refused;
    /** refused's data points by status code, made on first use (a handful of codes ever). */
    private final ConcurrentHashMap<Integer, CounterDataPoint> refusedByCode =
            new ConcurrentHashMap<>();
    private final Histogram queueWait;
    private final Gauge classQueued;
    private final Histogram classWait;
    private final Counter classRejections;
    private final Histogram coldStart;
    private final Histogram duration;
    private final Histogram inboxWait;
    private final Histogram processing;
    /** processing's data points by operation label (a dozen operations; no lookup allocates). */
    private final ConcurrentHashMap<String, DistributionDataPoint> processingByOperation = new ConcurrentHashMap<>();
    private final Counter writerFailures;
    private final Counter transitions;
    private final Counter validations;
    private final Counter drainDeadlines;
    private final Counter podReports;
    /** sluice_client_timeouts_total's data points, by {@link Phase} ordinal (made once: no lookup per event). */
    private final CounterDataPoint[] clientTimeouts;
    private final Counter refusedConnections;

    /** Metrics with no Kubernetes discovery. */
    public SluiceMetrics(Supplier<Map<RevisionId, RevisionThrottler>> revisions) {
        this(revisions, List::of);
    }

    /**
     * @param revisions the live revisions, read at scrape time
     * @param discovery the Kubernetes watches' status, read at scrape time
     */
    public SluiceMetrics(Supplier<Map<RevisionId, RevisionThrottler>> revisions,
            Supplier<List<WatchStatus>> discovery) {
        requests = Counter.builder().withoutExemplars().name("sluice_requests_total")
                .help("Requests by revision, status code, outcome (proxied, or the reason Sluice answered itself) and the"
                        + " client's protocol (http1, or h2: an HTTP/2 stream)")
                .labelNames("revision", "code", "reason", "protocol").register(registry);
        rejections = Counter.builder().withoutExemplars().name("sluice_rejections_total")
                .help("Requests Sluice answered itself instead of proxying, by reason")
                .labelNames("revision", "reason").register(registry);
        refused = Counter.builder().withoutExemplars().name("sluice_refused_requests_total")
                .help("Requests refused before routing because their head could not be framed safely, by the status answered")
                .labelNames("code").register(registry);
        queueWait = Histogram.builder().withoutExemplars().name("sluice_queue_wait_seconds")
                .help("Time requests waited for a pod").unit(Unit.SECONDS)
                .labelNames("revision").classicUpperBounds(LATENCY_BUCKETS).classicOnly().register(registry);
        classQueued = Gauge.builder().name("sluice_queue_queued")
                .help("Requests waiting for a pod, by priority class and tenant (revisions with a queueing section;"
                        + " tenants past the first " + QueueMetrics.MAX_TENANT_LABELS + " of a revision, or longer than "
                        + QueueMetrics.MAX_TENANT_LABEL_LENGTH + " characters, count as other)")
                .labelNames("revision", "class", "tenant").register(registry);
        classWait = Histogram.builder().withoutExemplars().name("sluice_queue_class_wait_seconds")
                .help("Time requests waited for a pod, by priority class and tenant (revisions with a queueing section)")
                .unit(Unit.SECONDS).labelNames("revision", "class", "tenant").classicUpperBounds(LATENCY_BUCKETS)
                .classicOnly().register(registry);
        classRejections = Counter.builder().withoutExemplars().name("sluice_queue_rejections_total")
                .help("Requests the queue refused or dropped (queue-full, tenant-queue-full, preempted, queue-timeout,"
                        + " ...), by priority class and tenant (revisions with a queueing section)")
                .labelNames("revision", "class", "tenant", "reason").register(registry);
        coldStart = Histogram.builder().withoutExemplars().name("sluice_cold_start_seconds")
                .help("Cold starts: from the first request queued while the revision had no routable pod to"
                        + " the first pod becoming routable")
                .labelNames("revision").classicUpperBounds(COLD_START_BUCKETS).classicOnly().register(registry);
        duration = Histogram.builder().withoutExemplars().name("sluice_request_duration_seconds")
                .help("Time from a request's arrival to the end of its answer")
                .labelNames("revision").classicUpperBounds(LATENCY_BUCKETS).classicOnly().register(registry);
        // The control path's histograms are process-wide (by operation, not by revision): per
        // revision they cost ~20 adders each for every revision that ever had an event, and
        // 10,000 revisions x 12 operations x 9 buckets of series in Prometheus.
        inboxWait = Histogram.builder().withoutExemplars().name("sluice_control_inbox_wait_seconds")
                .help("Time control events waited in their revision's inbox (all revisions)")
                .classicUpperBounds(CONTROL_BUCKETS).classicOnly().register(registry);
        processing = Histogram.builder().withoutExemplars().name("sluice_control_processing_seconds")
                .help("Time a revision's writer spent applying an operation (all revisions)")
                .labelNames("operation").classicUpperBounds(CONTROL_BUCKETS).classicOnly()
                .register(registry);
        writerFailures = Counter.builder().withoutExemplars().name("sluice_control_writer_failures_total")
                .help("Operations whose application threw; the revision backed off and reconciled")
                .labelNames("revision", "operation").register(registry);
        transitions = Counter.builder().withoutExemplars().name("sluice_pod_state_transitions_total")
                .help("Pod state transitions").labelNames("revision", "from", "to").register(registry);
        validations = Counter.builder().withoutExemplars().name("sluice_readiness_validations_total")
                .help("Readiness checks of pods, by result").labelNames("revision", "result").register(registry);
        drainDeadlines = Counter.builder().withoutExemplars().name("sluice_drain_deadline_removals_total")
                .help("Draining pods removed at their deadline with requests still in flight")
                .labelNames("revision").register(registry);

        Counter timeouts = Counter.builder().withoutExemplars().name("sluice_client_timeouts_total")
                .help("Client connections that ran out of time, by phase: head (408, closed), idle (closed),"
                        + " body (408 or closed, the pod's slot freed)").labelNames("phase").register(registry);
        clientTimeouts = new CounterDataPoint[Phase.values().length];
        for (Phase p : Phase.values()) {
            clientTimeouts[p.ordinal()] = timeouts.labelValues(p.wireName());
        }
        refusedConnections = Counter.builder().withoutExemplars().name("sluice_refused_connections_total")
                .help("Client connections refused (503, closed) because client.maxConnections were open")
                .register(registry);
        podReports = Counter.builder().withoutExemplars().name("sluice_pod_reports_total")
                .help("Pod reports to the control API by authentication outcome").labelNames("outcome")
                .register(registry);
        GaugeWithCallback.builder().name("sluice_discovery_up")
                .help("1 while the revision's EndpointSlice watch is listed and open; 0 while Sluice routes on its"
                        + " last known view").labelNames("revision", "service")
                .callback(cb -> discovery.get().forEach(w -> cb.call(w.healthy() ? 1 : 0, w.revision().toString(),
                        w.service().toString()))).register(registry);
        CounterWithCallback.builder().name("sluice_discovery_failures")
                .help("EndpointSlice watches lost and list/watch attempts failed (each retried with backoff)")
                .labelNames("revision").callback(cb -> discovery.get().forEach(
                        w -> cb.call(w.failures(), w.revision().toString()))).register(registry);
        GaugeWithCallback.builder().name("sluice_revision_queued").help("Requests waiting for a pod")
                .labelNames("revision").callback(cb -> revisions.get().forEach(
                        (id, th) -> cb.call(th.queued(), id.toString()))).register(registry);
        GaugeWithCallback.builder().name("sluice_revision_active").help("Requests being served")
                .labelNames("revision").callback(cb -> revisions.get().forEach(
                        (id, th) -> cb.call(th.active(), id.toString()))).register(registry);
        GaugeWithCallback.builder().name("sluice_revision_capacity")
                .help("Requests the revision's pods can serve at once (cc x routable pods)")
                .labelNames("revision").callback(cb -> revisions.get().forEach(
                        (id, th) -> cb.call(th.capacity() == Integer.MAX_VALUE ? Double.POSITIVE_INFINITY
                                : th.capacity(), id.toString()))).register(registry);
        GaugeWithCallback.builder().name("sluice_revision_pods").help("Pods by state")
                .labelNames("revision", "state").callback(cb -> revisions.get().forEach((id, th) -> {
                    int[] counts = new int[PodState.values().length];
                    for (PodTracker t : th.table().trackers()) {
                        counts[t.state().ordinal()]++;
                    }
                    for (PodState s : PodState.values()) {
                        if (s != PodState.REMOVED) {
                            cb.call(counts[s.ordinal()], id.toString(), s.wireName());
                        }
                    }
                })).register(registry);
        GaugeWithCallback.builder().name("sluice_pod_in_flight").help("Requests in flight on each pod")
                .labelNames("revision", "pod", "address").callback(cb -> revisions.get().forEach((id, th) -> {
                    for (PodTracker t : th.table().trackers()) {
                        cb.call(t.inFlight(), id.toString(), t.podId(), t.address());
                    }
                })).register(registry);
        GaugeWithCallback.builder().name("sluice_pod_table_fragmentation_ratio")
                .help("Empty slots inside the pod table's length / length").labelNames("revision")
                .callback(cb -> revisions.get().forEach(
                        (id, th) -> cb.call(th.table().fragmentationRatio(), id.toString()))).register(registry);
    }

    /** Request metrics for one revision: data points made on first use, then cached. */
    public RequestMetrics forRevision(RevisionId id) {
        return new RequestMetrics(id.toString(), requests, rejections, queueWait, duration,
                new QueueMetrics(id.toString(), classQueued, classWait, classRejections));
    }

    /** Where a revision's cold starts go: seconds, observed into {@code sluice_cold_start_seconds}. */
    public LongConsumer coldStarts(RevisionId id) {
        // The data point is made at the first cold start, not when the revision opens: made
        // eagerly it was ~25 LongAdders (~0.9 KB) for every revision that never scaled from zero.
        String label = id.toString();
        return nanos -> coldStart.labelValues(label).observe(nanos / 1e9);
    }

    /** A request was refused before it had a revision (a malformed head), answered with {@code code}. */
    public void refused(int code) {
        refusedByCode.computeIfAbsent(code, c -> refused.labelValues(Integer.toString(c))).inc();
    }

    /** The text exposition format, for {@code /metrics}. */
    /** The registry, for the parts that register metrics of their own (the replica set's). */
    public PrometheusRegistry registry() {
        return registry;
    }

    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new IllegalStateException("writing metrics to memory failed", e);
        }
        return out.toByteArray();
    }

    public String contentType() {
        return writer.getContentType();
    }

    /** A pod report's authentication outcome. */
    public void podReport(PodAuthenticator.Outcome outcome) {
        podReports.labelValues(outcome.name().toLowerCase(Locale.ROOT)).inc();
    }

    // ------------------------------------------------------------------ proxy-port hooks

    @Override
    public void clientTimeout(Phase phase) {
        clientTimeouts[phase.ordinal()].inc();
    }

    @Override
    public void connectionRefused() {
        refusedConnections.inc();
    }

    /** Reports {@code open} (client connections open now) at scrape time. */
    public void clientConnections(IntSupplier open) {
        GaugeWithCallback.builder().name("sluice_client_connections")
                .help("Client connections open on the proxy port (capped by client.maxConnections)")
                .callback(cb -> cb.call(open.getAsInt())).register(registry);
    }

    /** Reports the readiness checks running now and those waiting their turn, at scrape time. */
    public void readinessChecks(IntSupplier inFlight, IntSupplier waiting) {
        GaugeWithCallback.builder().name("sluice_readiness_checks_in_flight")
                .help("Readiness checks running now (bounded by control.readinessChecks)")
                .callback(cb -> cb.call(inFlight.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("sluice_readiness_checks_waiting")
                .help("Readiness checks waiting for their turn (revisions take turns)")
                .callback(cb -> cb.call(waiting.getAsInt())).register(registry);
    }

    // ------------------------------------------------------------------ control-path hooks

    @Override
    public void inboxWait(RevisionId revision, long nanos) {
        inboxWait.observe(nanos / 1e9);
    }

    @Override
    public void processed(RevisionId revision, String operation, long nanos) {
        processingByOperation.computeIfAbsent(operation, processing::labelValues).observe(nanos / 1e9);
    }

    @Override
    public void writerFailure(RevisionId revision, String operation) {
        writerFailures.labelValues(revision.toString(), operation).inc();
    }

    @Override
    public void stateTransition(RevisionId revision, PodState from, PodState to) {
        transitions.labelValues(revision.toString(), from.wireName(), to.wireName()).inc();
    }

    @Override
    public void readinessValidation(RevisionId revision, boolean passed) {
        validations.labelValues(revision.toString(), passed ? "passed" : "failed").inc();
    }

    @Override
    public void drainDeadlineExpired(RevisionId revision) {
        drainDeadlines.labelValues(revision.toString()).inc();
    }
}
