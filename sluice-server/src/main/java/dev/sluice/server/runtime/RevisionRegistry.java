package dev.sluice.server.runtime;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.throttle.ColdStartWatch;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.core.throttle.ZeroPodListener;
import dev.sluice.server.cluster.Cluster;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.SluiceMetrics;
import dev.sluice.server.proxy.ProxyContext;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.Routes;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The running revisions, one entry each: its configuration, throttler and request metrics (a
 * {@link Route}), from which its readiness path is read. The proxy's routing table, the metrics'
 * list of throttlers, the readiness check's paths and the control API's revision list are all
 * views of this one map, so they cannot disagree; the control path's own set
 * ({@link StateManager}) is opened and closed only from here.
 *
 * <h2>Implementation notes</h2>
 * One writer: {@link ConfigReconciler}, under its lock, calls {@link #open} for each new
 * revision and then {@link #publish} with the whole next set. Readers on any thread (event
 * loops routing requests, metrics scrapes, readiness probes on the writer threads) read the
 * {@code volatile} snapshot: an unmodifiable map built before it is published, so a reader
 * sees a complete set, never one being edited. The proxy gets the same set as the immutable
 * {@link Routes} it already reads without a lock, published in the same step; a revision is
 * published before its pods are fed (so a probe finds its path) and closed in the control path
 * only after it has left the published set (so no new request finds a closed throttler).
 */
final class RevisionRegistry {

    private final StateManager control;
    private final ProxyContext proxy;
    private final SluiceMetrics metrics;
    private final NanoClock clock;
    private final Function<RevisionId, ZeroPodListener> scaleFromZero;
    private volatile Map<RevisionId, Route> running = Map.of();
    /** The replica set, or null when Sluice runs alone; set before the first revision opens. */
    private Cluster cluster;

    /**
     * @param scaleFromZero who else hears of a revision's requests queued at zero pods (KEDA's
     *                      external scaler), besides the cold-start watch each revision gets
     */
    RevisionRegistry(StateManager control, ProxyContext proxy, SluiceMetrics metrics, NanoClock clock,
            Function<RevisionId, ZeroPodListener> scaleFromZero) {
        this.control = control;
        this.proxy = proxy;
        this.metrics = metrics;
        this.clock = clock;
        this.scaleFromZero = scaleFromZero;
    }

    /** With several replicas: each route gets an owner cell, and every new set goes to the ownership table. */
    void cluster(Cluster c) {
        this.cluster = c;
    }

    /** The running revision {@code id}, or null. */
    Route get(RevisionId id) {
        return running.get(id);
    }

    /** The running revisions, in the order they were wanted. */
    Collection<Route> all() {
        return running.values();
    }

    /** The readiness path of the running revision {@code id}, or null when it runs no more. */
    String readinessPath(RevisionId id) {
        Route r = running.get(id);
        return r == null ? null : r.config().readinessPath();
    }

    /** The configuration of the running revision {@code id}, or null when it runs no more. */
    RevisionConfig config(RevisionId id) {
        Route r = running.get(id);
        return r == null ? null : r.config();
    }

    /** The running revisions' throttlers, by id, in order (a copy). */
    Map<RevisionId, RevisionThrottler> throttlers() {
        Map<RevisionId, RevisionThrottler> out = new LinkedHashMap<>();
        running.forEach((id, r) -> out.put(id, r.throttler()));
        return out;
    }

    /** The routing table the proxy reads now. */
    Routes routes() {
        return proxy.routes();
    }

    int size() {
        return running.size();
    }

    /**
     * Opens a new revision in the control path and returns its route; it runs for requests once
     * {@link #publish published}. Writer only.
     */
    Route open(RevisionConfig rc) {
        RevisionThrottler th = control.open(rc.id(), rc.settings());
        ColdStartWatch coldStart = new ColdStartWatch(clock, th::routablePods, metrics.coldStarts(rc.id()));
        ZeroPodListener scaler = scaleFromZero.apply(rc.id());
        th.listen(ZeroPodListener.both(coldStart, scaler));
        th.setQueuePolicy(rc.queueing().policy(rc.queueDepth()));
        return new Route(rc, th, metrics.forRevision(rc.id()), coldStart,
                cluster == null ? null : cluster.newOwner(scaler));
    }

    /**
     * Makes {@code next} the running set: publishes it (to the proxy too), then, for each revision
     * that is not in it, calls {@code leaving} and closes it in the control path (its waiting
     * requests get 503 {@code revision-closed}). Writer only.
     */
    void publish(List<Route> next, Consumer<RevisionId> leaving) {
        Map<RevisionId, Route> map = new LinkedHashMap<>();
        next.forEach(r -> map.put(r.config().id(), r));
        Map<RevisionId, Route> before = running;
        running = Collections.unmodifiableMap(map);
        if (cluster != null) {
            // Owners first: the proxy must not see a route before it knows who owns it.
            cluster.routesPublished(next);
        }
        proxy.routes(new Routes(next));
        for (RevisionId id : before.keySet()) {
            if (!map.containsKey(id)) {
                leaving.accept(id);
                control.close(id);
            }
        }
    }
}
