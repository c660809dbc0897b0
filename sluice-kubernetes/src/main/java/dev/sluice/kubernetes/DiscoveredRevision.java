package dev.sluice.kubernetes;

import dev.sluice.core.RevisionId;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A revision found from a Service labelled {@value RevisionCatalog#REVISION_LABEL}.
 *
 * @param id       {@code <service namespace>/<label value>}
 * @param service  the Service itself (its EndpointSlices hold the pods)
 * @param settings the Service's {@code sluice.dev/*} annotations, prefix removed
 *                 ({@code containerConcurrency → "1"}); the server validates them as it
 *                 validates the same fields in {@code sluice.yaml}
 */
public record DiscoveredRevision(RevisionId id, ServiceRef service, Map<String, String> settings) {

    public DiscoveredRevision {
        settings = Collections.unmodifiableMap(new TreeMap<>(settings));
    }

    /** What errors about this revision call it. */
    public String source() {
        return "Service " + service.namespace() + "/" + service.name();
    }
}
