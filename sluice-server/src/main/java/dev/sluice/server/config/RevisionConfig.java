package dev.sluice.server.config;

import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.Endpoint;
import dev.sluice.core.control.RevisionSettings;
import dev.sluice.kubernetes.ServiceRef;
import java.time.Duration;
import java.util.List;

/**
 * One revision in {@code sluice.yaml}.
 *
 * @param hosts          Host header values routed to this revision (besides the headers)
 * @param overflowStatus 503 (default) or 429: the answer when the queue is full
 * @param pods           static pods (discovery from the file); empty when pods push their state
 * @param service        the Kubernetes Service whose EndpointSlices hold the pods, or null
 * @param protocol       what the pods speak (requests of either protocol are translated to it)
 * @param readinessProbe how pods are checked before they get requests
 */
public record RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
        int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
        Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
        Duration drainTimeout, List<Endpoint> pods, ServiceRef service, PodProtocol protocol,
        ReadinessProbe readinessProbe) {

    public RevisionConfig {
        hosts = List.copyOf(hosts);
        pods = List.copyOf(pods);
    }

    /** A revision of HTTP/1.1 pods checked with {@code GET readinessPath}. */
    public RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
            int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
            Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
            Duration drainTimeout, List<Endpoint> pods, ServiceRef service) {
        this(id, hosts, containerConcurrency, policy, queueDepth, overflowStatus, queueTimeout, requestTimeout,
                responseStartTimeout, maxScale, readinessPath, staleThreshold, drainTimeout, pods, service,
                PodProtocol.HTTP1, ReadinessProbe.HTTP);
    }

    /** Whether the pods speak h2c. */
    public boolean h2c() {
        return protocol == PodProtocol.H2C;
    }

    /** The control path's view of this revision. */
    public RevisionSettings settings() {
        return new RevisionSettings(containerConcurrency, maxScale, queueDepth, policy, staleThreshold, drainTimeout,
                RevisionSettings.DEFAULT_RECOVERY_TIMEOUT);
    }
}
