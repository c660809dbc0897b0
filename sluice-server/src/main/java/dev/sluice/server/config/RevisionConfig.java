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
 * @param protocol       what the pods speak (requests of either protocol are translated to it)
 * @param readinessProbe how pods are checked before they get requests
 * @param queueing       priority classes, tenants and how the queue is shared ({@link Queueing#NONE}: one FIFO)
 * @param protocolGiven  whether the configuration names {@code protocol}; when it does not, a
 *                       revision whose pods come from a Service speaks what the Service's port's
 *                       {@code appProtocol} says ({@link #withProtocol})
 */
public record RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
        int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
        Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
        Duration drainTimeout, List<Endpoint> pods, ServiceRef service, Duration scaleToZeroGrace,
        PodProtocol protocol, ReadinessProbe readinessProbe, Queueing queueing, boolean protocolGiven) {

    /** Default {@code scaleToZeroGrace}: KEDA's own default cooldown before it scales to zero is 300 s; 30 s of quiet is the signal. */
    public static final Duration DEFAULT_SCALE_TO_ZERO_GRACE = Duration.ofSeconds(30);

    public RevisionConfig {
        hosts = List.copyOf(hosts);
        pods = List.copyOf(pods);
        queueing = queueing == null ? Queueing.NONE : queueing;
    }

    /** A revision of HTTP/1.1 pods checked with {@code GET readinessPath}. */
    public RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
            int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
            Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
            Duration drainTimeout, List<Endpoint> pods, ServiceRef service) {
        this(id, hosts, containerConcurrency, policy, queueDepth, overflowStatus, queueTimeout, requestTimeout,
                responseStartTimeout, maxScale, readinessPath, staleThreshold, drainTimeout, pods, service,
                DEFAULT_SCALE_TO_ZERO_GRACE, PodProtocol.HTTP1, ReadinessProbe.HTTP, Queueing.NONE, true);
    }

    /** A revision of HTTP/1.1 pods checked with {@code GET readinessPath}, with its scale-to-zero grace. */
    public RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
            int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
            Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
            Duration drainTimeout, List<Endpoint> pods, ServiceRef service, Duration scaleToZeroGrace) {
        this(id, hosts, containerConcurrency, policy, queueDepth, overflowStatus, queueTimeout, requestTimeout,
                responseStartTimeout, maxScale, readinessPath, staleThreshold, drainTimeout, pods, service,
                scaleToZeroGrace, PodProtocol.HTTP1, ReadinessProbe.HTTP, Queueing.NONE, true);
    }

    /** A revision with the default scale-to-zero grace. */
    public RevisionConfig(RevisionId id, List<String> hosts, int containerConcurrency, PolicyKind policy,
            int queueDepth, int overflowStatus, Duration queueTimeout, Duration requestTimeout,
            Duration responseStartTimeout, int maxScale, String readinessPath, Duration staleThreshold,
            Duration drainTimeout, List<Endpoint> pods, ServiceRef service, PodProtocol protocol,
            ReadinessProbe readinessProbe) {
        this(id, hosts, containerConcurrency, policy, queueDepth, overflowStatus, queueTimeout, requestTimeout,
                responseStartTimeout, maxScale, readinessPath, staleThreshold, drainTimeout, pods, service,
                DEFAULT_SCALE_TO_ZERO_GRACE, protocol, readinessProbe, Queueing.NONE, true);
    }

    /** The same revision with another {@code queueing} section. */
    public RevisionConfig withQueueing(Queueing q) {
        return new RevisionConfig(id, hosts, containerConcurrency, policy, queueDepth, overflowStatus, queueTimeout,
                requestTimeout, responseStartTimeout, maxScale, readinessPath, staleThreshold, drainTimeout, pods,
                service, scaleToZeroGrace, protocol, readinessProbe, q, protocolGiven);
    }

    /** The same revision with its pods speaking {@code p} (what its Service's port says, when the file says nothing). */
    public RevisionConfig withProtocol(PodProtocol p) {
        return new RevisionConfig(id, hosts, containerConcurrency, policy, queueDepth, overflowStatus, queueTimeout,
                requestTimeout, responseStartTimeout, maxScale, readinessPath, staleThreshold, drainTimeout, pods,
                service, scaleToZeroGrace, p, readinessProbe, queueing, protocolGiven);
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
