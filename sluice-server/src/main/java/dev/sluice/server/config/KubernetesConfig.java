package dev.sluice.server.config;

import java.util.List;

/**
 * The {@code kubernetes} section of {@code sluice.yaml}.
 *
 * @param masterUrl         the API server; null = in-cluster service account, else kubeconfig
 * @param discoverRevisions revisions also come from Services labelled {@code sluice.dev/revision}
 * @param namespace         where to look for labelled Services; null = every namespace
 * @param tokenReview       pods may authenticate with their projected ServiceAccount token
 * @param audiences         the audiences that token must carry
 */
public record KubernetesConfig(String masterUrl, boolean discoverRevisions, String namespace, boolean tokenReview,
        List<String> audiences) {

    public static final List<String> DEFAULT_AUDIENCES = List.of("sluice");

    public KubernetesConfig {
        audiences = List.copyOf(audiences);
    }

    /** What a revision naming a Service implies when the section is left out. */
    public static KubernetesConfig defaults() {
        return new KubernetesConfig(null, false, null, true, DEFAULT_AUDIENCES);
    }
}
