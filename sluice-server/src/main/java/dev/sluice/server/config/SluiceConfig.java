package dev.sluice.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The whole of {@code sluice.yaml}.
 *
 * @param controlTokenFile file holding the bearer token pods present to the control API, or
 *                         null (then the token may come from {@code SLUICE_CONTROL_TOKEN}; with
 *                         neither, the control API listens on loopback only)
 * @param allowedPodNetworks where pods reported with the static token (or on a loopback-only
 *                         control API) may be; empty = anywhere but Sluice's own listen addresses
 * @param drainPeriod      after SIGTERM: how long the proxy keeps serving while {@code /readyz} fails
 * @param gracePeriod      then: how long in-flight requests may take to finish
 * @param kubernetes       the Kubernetes section, or null when Sluice does not talk to a cluster
 * @param client           what the proxy port allows its clients (timeouts, connections, buffering)
 * @param scalerListen     where KEDA's external scaler is served, or null when it is off (the
 *                         default outside Kubernetes; {@value ConfigReader#DEFAULT_SCALER_LISTEN}
 *                         when the file has a kubernetes section)
 * @param cluster          the replica set sharing each pod's limit, or null when Sluice runs alone
 * @param readinessChecks  how many readiness checks run at once, in all and per revision
 */
public record SluiceConfig(ListenAddress proxyListen, ListenAddress controlListen, Path controlTokenFile,
        List<PodNetwork> allowedPodNetworks, Duration drainPeriod, Duration gracePeriod, KubernetesConfig kubernetes,
        List<RevisionConfig> revisions, ClientLimits client, ListenAddress scalerListen, ClusterConfig cluster,
        ReadinessChecks readinessChecks, Queueing queueing) {

    public SluiceConfig {
        queueing = queueing == null ? Queueing.NONE : queueing;
        allowedPodNetworks = List.copyOf(allowedPodNetworks);
        revisions = List.copyOf(revisions);
    }
}
