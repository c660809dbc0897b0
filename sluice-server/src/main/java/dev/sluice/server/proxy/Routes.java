package dev.sluice.server.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Which revision a request is for. Immutable: a configuration change publishes a new one, so
 * the proxy reads it without a lock.
 *
 * <p>In order: header {@code Sluice-Revision: namespace/name}; the Knative pair
 * {@code Knative-Serving-Namespace} + {@code Knative-Serving-Revision}; the Host header
 * matched against each revision's configured hosts.
 */
public final class Routes {

    public static final String SLUICE_REVISION = "Sluice-Revision";
    public static final String KNATIVE_NAMESPACE = "Knative-Serving-Namespace";
    public static final String KNATIVE_REVISION = "Knative-Serving-Revision";

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
        return new Routes(java.util.List.of());
    }

    public Iterable<Route> all() {
        return byName.values();
    }

    /** The route for a request's headers, or null. */
    public Route find(HttpHeaders headers) {
        String named = headers.get(SLUICE_REVISION);
        if (named != null) {
            return byName.get(named.trim());
        }
        String ns = headers.get(KNATIVE_NAMESPACE);
        String rev = headers.get(KNATIVE_REVISION);
        if (ns != null && rev != null) {
            return byName.get(ns.trim() + '/' + rev.trim());
        }
        String host = headers.get("Host");
        return host == null ? null : byHost.get(hostOnly(host));
    }

    /** Why {@link #find} found nothing, for the 404 body. */
    public String explainMiss(HttpHeaders headers) {
        String named = headers.get(SLUICE_REVISION);
        if (named != null) {
            return "no revision '" + named.trim() + "' (from header " + SLUICE_REVISION + ": namespace/name)\n";
        }
        String ns = headers.get(KNATIVE_NAMESPACE);
        String rev = headers.get(KNATIVE_REVISION);
        if (ns != null && rev != null) {
            return "no revision '" + ns.trim() + '/' + rev.trim() + "' (from headers " + KNATIVE_NAMESPACE + " and "
                    + KNATIVE_REVISION + ")\n";
        }
        String host = headers.get("Host");
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
