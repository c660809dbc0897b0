package dev.sluice.server.proxy;

import dev.sluice.http1.RequestFramer;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which revision a request is for. Immutable: a configuration change publishes a new one, so
 * the proxy reads it without a lock.
 *
 * <p>In order: header {@code Sluice-Revision: namespace/name}; the Knative pair
 * {@code Knative-Serving-Namespace} + {@code Knative-Serving-Revision}; the Host header
 * matched against each revision's configured hosts. The header names are the framer's
 * ({@link RequestFramer}), which finds their values.
 */
public final class Routes {

    private static final String SLUICE_REVISION = RequestFramer.SLUICE_REVISION_HEADER;
    private static final String KNATIVE_NAMESPACE = RequestFramer.KNATIVE_NAMESPACE_HEADER;
    private static final String KNATIVE_REVISION = RequestFramer.KNATIVE_REVISION_HEADER;

    private final Map<String, Route> byName = new HashMap<>();
    private final Map<String, Route> byHost = new HashMap<>();

    public Routes(Iterable<Route> routes) {
        for (Route r : routes) {
            byName.put(r.config().id().toString(), r);
            for (String h : r.config().hosts()) {
                byHost.put(h, r);
            }
        }
    }

    public static Routes empty() {
        return new Routes(List.of());
    }

    public Iterable<Route> all() {
        return byName.values();
    }

    /**
     * The route for a request, from its {@code Sluice-Revision}, {@code Knative-Serving-*} and
     * {@code Host} values (each null when the request has none), or null.
     */
    public Route find(String revision, String knativeNamespace, String knativeRevision, String host) {
        if (revision != null) {
            return byName.get(revision.trim());
        }
        if (knativeNamespace != null && knativeRevision != null) {
            return byName.get(knativeNamespace.trim() + '/' + knativeRevision.trim());
        }
        return host == null ? null : byHost.get(hostOnly(host));
    }

    /** Why {@link #find} found nothing, for the 404 body. */
    public String explainMiss(String revision, String knativeNamespace, String knativeRevision, String host) {
        if (revision != null) {
            return "no revision '" + revision.trim() + "' (from header " + SLUICE_REVISION + ": namespace/name)\n";
        }
        if (knativeNamespace != null && knativeRevision != null) {
            return "no revision '" + knativeNamespace.trim() + '/' + knativeRevision.trim() + "' (from headers "
                    + KNATIVE_NAMESPACE + " and " + KNATIVE_REVISION + ")\n";
        }
        return "no revision for this request: send header " + SLUICE_REVISION + ": namespace/name, or headers "
                + KNATIVE_NAMESPACE + " and " + KNATIVE_REVISION + ", or a Host configured for a revision"
                + (host == null ? " (the request has no Host)" : " (Host '" + hostOnly(host) + "' is not configured)")
                + "\n";
    }

    static String hostOnly(String host) {
        String h = host.trim();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return (end > 0 ? h.substring(0, end + 1) : h).toLowerCase(Locale.ROOT);
        }
        int colon = h.indexOf(':');
        return (colon >= 0 ? h.substring(0, colon) : h).toLowerCase(Locale.ROOT);
    }
}
