package dev.sluice.server.config;

import dev.sluice.kubernetes.ServiceRef;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Reads the {@code kubernetes} section of {@code sluice.yaml}: the API server, revision
 * discovery, TokenReview and the replicas' membership ({@code kubernetes.peers}). Its problems
 * join the file's list.
 */
final class KubernetesConfigReader extends FieldReader {

    KubernetesConfigReader(String file, List<ConfigException> problems) {
        super(file, problems);
    }

    /** The {@code kubernetes} section, or null when it is absent. */
    KubernetesConfig read(JsonNode node) throws ConfigException {
        if (node == null || node.isNull()) {
            return null;
        }
        object(node, "kubernetes", Set.of("masterUrl", "discoverRevisions", "namespace", "tokenReview", "peers"));
        String master = string(node, "kubernetes.masterUrl", "masterUrl", null);
        if (master != null && !master.matches("https?://.+")) {
            throw error("kubernetes.masterUrl", "must be an http:// or https:// URL, was '" + master + "'");
        }
        boolean discover = bool(node, "kubernetes.discoverRevisions", "discoverRevisions", false);
        String ns = string(node, "kubernetes.namespace", "namespace", null);
        if (ns != null) {
            parsed("kubernetes.namespace", () -> new ServiceRef(ns, "x", null));
        }
        JsonNode review = optionalObject(node, "kubernetes.tokenReview", "tokenReview", Set.of("enabled", "audiences"));
        boolean enabled = bool(review, "kubernetes.tokenReview.enabled", "enabled", true);
        List<String> audiences = review.has("audiences")
                ? strings(review, "kubernetes.tokenReview.audiences", "audiences")
                : KubernetesConfig.DEFAULT_AUDIENCES;
        KubernetesConfig.Peers peers = part(() -> peers(node.get("peers")));
        return new KubernetesConfig(master, discover, ns, enabled, audiences, peers);
    }

    /** {@code kubernetes.peers}: absent or null = no membership from Kubernetes; {} = the defaults. */
    private KubernetesConfig.Peers peers(JsonNode node) throws ConfigException {
        if (node == null || node.isNull()) {
            return null;
        }
        object(node, "kubernetes.peers", Set.of("namespace", "service", "controlPort", "proxyPort"));
        KubernetesConfig.Peers d = KubernetesConfig.Peers.DEFAULTS;
        String ns = string(node, "kubernetes.peers.namespace", "namespace", null);
        String service = string(node, "kubernetes.peers.service", "service", d.service());
        String control = string(node, "kubernetes.peers.controlPort", "controlPort", d.controlPort());
        String proxy = string(node, "kubernetes.peers.proxyPort", "proxyPort", d.proxyPort());
        if (ns != null) {
            parsed("kubernetes.peers.namespace", () -> new ServiceRef(ns, "x", null));
        }
        parsed("kubernetes.peers.service", () -> new ServiceRef("x", service, null));
        parsed("kubernetes.peers.controlPort", () -> new ServiceRef("x", "x", control));
        if (proxy.isBlank()) {
            throw error("kubernetes.peers.proxyPort", "must be a port name or number");
        }
        if (proxy.equals(control)) {
            throw error("kubernetes.peers.proxyPort", "is the same port as controlPort ('" + control
                    + "'): the proxy and the control API listen on different ports");
        }
        return new KubernetesConfig.Peers(ns, service, control, proxy);
    }
}
