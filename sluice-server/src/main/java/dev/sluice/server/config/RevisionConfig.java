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
 * @param scaleToZeroGrace how long demand must have been zero before KEDA's external scaler
 *                       reports the revision inactive (and KEDA scales it to zero)
 */
public record RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
        int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
        Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
        Duration drainTimeout, List<Endpoint> pods, ServiceRef service, Duration scaleToZeroGrace) {

    /** Default {@code scaleToZeroGrace}: KEDA's own default cooldown before it scales to zero is 300 s; 30 s of quiet is the signal. */
    public static final Duration DEFAULT_SCALE_TO_ZERO_GRACE = Duration.ofSeconds(30);

    public RevisionConfig {
        hosts = List.copyOf(hosts);
        pods = List.copyOf(pods);
    }

    /** The control path's view of this revision. */
    public RevisionSettings settings() {
        return new RevisionSettings(containerConcurrency, maxScale, queueDepth, policy, staleThreshold, drainTimeout,
                RevisionSettings.DEFAULT_RECOVERY_TIMEOUT);
    }
}
