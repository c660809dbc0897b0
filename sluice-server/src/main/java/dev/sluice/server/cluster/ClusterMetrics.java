package dev.sluice.server.cluster;

import dev.sluice.server.metrics.Outcome;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The replica set's metrics: forwards sent (by how they ended) and received, ownership moves,
 * peer errors (by peer and kind: health, forward, handoff), each peer's liveness, the size of the
 * live set, the Kubernetes peer watch's state (when the replica set comes from it), and the pod
 * slots held for other replicas' requests during a handoff. A forward is counted here, never in
 * {@code sluice_requests_total}: the owner counts the request as its revision's, once.
 */
final class ClusterMetrics {

    private final CounterDataPoint[] sentByOutcome;
    private final CounterDataPoint received;
    private final CounterDataPoint moves;
    private final Counter peerErrors;
    private final Gauge peerUp;
    /** The Kubernetes peer watch's state, once there is one (static peers: never). */
    private volatile BooleanSupplier peerWatchUp;
    private volatile LongSupplier peerWatchFailures;

    ClusterMetrics(PrometheusRegistry registry, IntSupplier heldSlots, IntSupplier liveReplicas) {
        Counter sent = Counter.builder().withoutExemplars().name("sluice_cluster_forwards_sent_total")
                .help("Requests forwarded to the replica that owns their revision, by how they ended (proxied:"
                        + " the owner answered)").labelNames("reason").register(registry);
        sentByOutcome = new CounterDataPoint[Outcome.values().length];
        for (Outcome o : Outcome.values()) {
            sentByOutcome[o.ordinal()] = sent.labelValues(o.wireName());
        }
        received = Counter.builder().withoutExemplars().name("sluice_cluster_forwards_received_total")
                .help("Requests another replica forwarded here").register(registry).labelValues();
        moves = Counter.builder().withoutExemplars().name("sluice_cluster_ownership_moves_total")
                .help("Revisions whose owner changed in this replica's view").register(registry).labelValues();
        peerErrors = Counter.builder().withoutExemplars().name("sluice_cluster_peer_errors_total")
                .help("Failed exchanges with another replica, by peer and kind (health, forward, handoff)")
                .labelNames("peer", "kind").register(registry);
        peerUp = Gauge.builder().name("sluice_cluster_peer_up")
                .help("1 while the peer is in this replica's live set").labelNames("peer").register(registry);
        GaugeWithCallback.builder().name("sluice_cluster_handoff_reserved_slots")
                .help("Pod slots held for requests another replica still runs on them (ownership moved)")
                .callback(cb -> cb.call(heldSlots.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("sluice_cluster_live_replicas")
                .help("Replicas in this replica's live set (itself included while it is live), the set ownership is"
                        + " computed over").callback(cb -> cb.call(liveReplicas.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("sluice_cluster_peer_watch_up")
                .help("On Kubernetes: 1 while the watch of the control Service's EndpointSlices has listed and is"
                        + " open; 0 while it waits for its first list or is being re-established (the replica set"
                        + " stays as last seen)").callback(cb -> {
                            BooleanSupplier up = peerWatchUp;
                            if (up != null) {
                                cb.call(up.getAsBoolean() ? 1 : 0);
                            }
                        }).register(registry);
        CounterWithCallback.builder().name("sluice_cluster_peer_watch_failures_total")
                .help("On Kubernetes: peer watches lost and list/watch attempts failed since start (each retried)")
                .callback(cb -> {
                    LongSupplier f = peerWatchFailures;
                    if (f != null) {
                        cb.call(f.getAsLong());
                    }
                }).register(registry);
    }

    /** The replica set comes from the Kubernetes peer watch: its state is reported from now. */
    void peerWatch(BooleanSupplier up, LongSupplier failures) {
        this.peerWatchFailures = failures;
        this.peerWatchUp = up;
    }

    void forwarded(Outcome outcome) {
        sentByOutcome[outcome.ordinal()].inc();
    }

    void received() {
        received.inc();
    }

    void moved(int n) {
        moves.inc(n);
    }

    void peerError(String peer, String kind) {
        peerErrors.labelValues(peer, kind).inc();
    }

    void peerUp(String peer, boolean up) {
        peerUp.labelValues(peer).set(up ? 1 : 0);
    }
}
