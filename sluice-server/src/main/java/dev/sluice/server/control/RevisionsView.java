package dev.sluice.server.control;

import dev.sluice.core.control.PodCheck;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.config.Queueing;
import dev.sluice.server.proxy.Route;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What {@code GET /v1/revisions} answers: per revision its limit, policy, capacity, queue (by
 * class with a {@code queueing} section), active requests, last cold start, owner replica, pod
 * protocol, completed requests by client protocol, and every pod Sluice knows of with its last
 * readiness check (pods still validating included). Read on the control loop from the live
 * routes and throttlers, so it is a moment's view, not a consistent snapshot across revisions.
 */
final class RevisionsView {

    private RevisionsView() {
    }

    /** Appends one object per running revision to {@code list} and returns it. */
    static ArrayNode of(ControlServer.Backend backend, ArrayNode list) {
        for (Route r : backend.routes().get().all()) {
            RevisionThrottler th = r.throttler();
            ObjectNode o = list.addObject();
            o.put("revision", r.config().id().toString());
            o.put("containerConcurrency", r.config().containerConcurrency());
            o.put("policy", th.policy().kind().wireName());
            o.put("capacity", th.capacity());
            o.put("queued", th.queued());
            o.put("active", th.active());
            Queueing q = r.config().queueing();
            if (q != Queueing.NONE) {
                // The queue by class, in order of priority: what waits where.
                ArrayNode classes = o.putArray("queueByClass");
                for (int c = 0; c < q.classes().size(); c++) {
                    classes.addObject().put("class", q.classes().get(c).name()).put("queued", th.queuedIn(c));
                }
                o.put("defaultClass", q.classes().get(q.defaultClass()).name());
            }
            long cold = r.coldStart().lastNanos();
            if (cold < 0) {
                o.putNull("lastColdStartSeconds");
            } else {
                o.put("lastColdStartSeconds", cold / 1e9);
            }
            o.put("coldStartInProgress", r.coldStart().inProgress());
            if (r.owner() != null) {
                // Which replica owns the revision, and the pod slots held here for others' requests.
                o.put("owner", r.owner().ownerId());
                o.put("forwarded", r.owner().forwardTo() != null);
                o.put("heldForOtherReplicas", backend.cluster().heldForOthers(r.config().id()));
            }
            o.put("protocol", r.config().protocol().wireName());
            o.putObject("requests").put("http1", r.metrics().completed(false)).put("h2", r.metrics().completed(true));
            ArrayNode pods = o.putArray("pods");
            Map<String, PodCheck> checks = new LinkedHashMap<>();
            for (PodCheck c : backend.control().checks(r.config().id())) {
                checks.put(c.address(), c);
            }
            for (PodTracker t : th.table().trackers()) {
                ObjectNode p = pods.addObject().put("podId", t.podId()).put("address", t.address())
                        .put("state", t.state().wireName()).put("inFlight", t.inFlight());
                PodCheck c = checks.get(t.address());
                if (c != null && c.podId().equals(t.podId()) && !c.validating()) {
                    checks.remove(t.address());
                    lastCheck(p, c);
                }
            }
            // Pods that claim to be ready but have no slot until a readiness check passes.
            for (PodCheck c : checks.values()) {
                if (c.validating()) {
                    lastCheck(pods.addObject().put("podId", c.podId()).put("address", c.address())
                            .put("state", "validating").put("inFlight", 0), c);
                }
            }
        }
        return list;
    }

    private static void lastCheck(ObjectNode pod, PodCheck c) {
        ObjectNode check = pod.putObject("lastCheck").put("result", c.last().wireName());
        if (c.error() != null) {
            check.put("error", c.error()).put("failuresInARow", c.failures());
        }
    }
}
