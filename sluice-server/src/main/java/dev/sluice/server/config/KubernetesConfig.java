package dev.sluice.server.config;

import dev.sluice.kubernetes.ServiceRef;
import java.util.List;

/**
 * The {@code kubernetes} section of {@code sluice.yaml}.
 *
 * @param masterUrl         the API server; null = in-cluster service account, else kubeconfig
 * @param discoverRevisions revisions also come from Services labelled {@code sluice.dev/revision}
 * @param namespace         where to look for labelled Services; null = every namespace
 * @param tokenReview       pods may authenticate with their projected ServiceAccount token
 * @param audiences         the audiences that token must carry
 * @param peers             where the replicas' membership comes from ({@code kubernetes.peers});
 *                          null = the defaults when {@code cluster:} lists no static peers, else
 *                          not from Kubernetes
 */
public record KubernetesConfig(String masterUrl, boolean discoverRevisions, String namespace, boolean tokenReview,
        List<String> audiences, Peers peers) {

    public static final List<String> DEFAULT_AUDIENCES = List.of("sluice");

    public KubernetesConfig {
        audiences = List.copyOf(audiences);
    }

    /** Without {@code kubernetes.peers}. */
    public KubernetesConfig(String masterUrl, boolean discoverRevisions, String namespace, boolean tokenReview,
            List<String> audiences) {
        this(masterUrl, discoverRevisions, namespace, tokenReview, audiences, null);
    }

    /**
     * {@code kubernetes.peers}: the headless Service whose ready endpoints are Sluice's replicas
     * (what {@code dev.sluice.kubernetes.PeerWatch} watches).
     *
     * @param namespace   the Service's namespace; null = Sluice's own ({@code POD_NAMESPACE},
     *                    else the client's namespace)
     * @param service     its name, default {@code sluice-control}
     * @param controlPort its port (name or number) of the replicas' control API, default {@code control}
     * @param proxyPort   its port (name or number) of the replicas' proxy, default {@code proxy}
     */
    public record Peers(String namespace, String service, String controlPort, String proxyPort) {

        public static final Peers DEFAULTS = new Peers(null, "sluice-control", "control", "proxy");

        /** The Service to watch, with its control port, in {@code ownNamespace} unless one is set. */
        public ServiceRef control(String ownNamespace) {
            return new ServiceRef(namespace == null ? ownNamespace : namespace, service, controlPort);
        }
    }

    /** What a revision naming a Service implies when the section is left out. */
    public static KubernetesConfig defaults() {
        return new KubernetesConfig(null, false, null, true, DEFAULT_AUDIENCES);
    }
}
