package dev.sluice.server.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code cluster:} section: several Sluice replicas sharing one per-pod limit. Absent, Sluice
 * runs alone exactly as it always has.
 *
 * @param self           this replica's id (default {@code SLUICE_CLUSTER_SELF}, else {@code HOSTNAME},
 *                       else the host's name); must be one of {@code peers} when peers are listed
 * @param peers          the static replica set, this replica included (empty on Kubernetes, where
 *                       the control Service's EndpointSlices give it)
 * @param healthInterval how often each static peer's {@code /readyz} is asked
 * @param healthTimeout  how long one such check may take
 * @param failures       checks failed in a row after which a peer is out of the live set
 * @param handoffTimeout how long reservations held for another replica's requests last without
 *                       a fresh report from it (a replica that died stops reporting)
 */
public record ClusterConfig(String self, List<Peer> peers, Duration healthInterval, Duration healthTimeout,
        int failures, Duration handoffTimeout) {

    public static final Duration DEFAULT_HEALTH_INTERVAL = Duration.ofMillis(500);
    public static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofMillis(400);
    public static final int DEFAULT_FAILURES = 2;
    public static final Duration DEFAULT_HANDOFF_TIMEOUT = Duration.ofSeconds(2);

    public ClusterConfig {
        peers = List.copyOf(peers);
    }

    /** How long the others take, at most, to notice a replica that stopped answering ready. */
    public Duration detectionTime() {
        return detectionTime(healthInterval, failures, healthTimeout);
    }

    static Duration detectionTime(Duration interval, int failures, Duration timeout) {
        return interval.multipliedBy(failures).plus(timeout);
    }

    /**
     * One replica of the static set.
     *
     * @param id      its {@code cluster.self}
     * @param address its proxy's {@code host:port}: forwarded requests go there
     * @param control its control API's {@code host:port}: {@code /readyz} and handoff reports
     */
    public record Peer(String id, ListenAddress address, ListenAddress control) {
    }
}
