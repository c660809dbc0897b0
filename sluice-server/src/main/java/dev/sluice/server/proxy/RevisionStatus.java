package dev.sluice.server.proxy;

import dev.sluice.core.control.PodCheck;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.server.config.Durations;
import java.time.Duration;
import java.util.List;

/**
 * Explanations of a revision's state for the answers Sluice writes itself. Off the hot path:
 * each is built only for a request that is being refused.
 */
final class RevisionStatus {

    private RevisionStatus() {
    }

    /**
     * Why a request waited its whole queue timeout. With pods serving, they were all busy; with
     * none ready, say what is known of them, so the 503 points at the pods (a readiness path that
     * answers 404, a pod that refuses connections) and not at load:
     * {@code no pod of revision default/x is ready: 2 validating, last error: connection refused}.
     * {@code waitedNanos}: the queue timeout, or the request's own shorter limit.
     */
    static String queueTimeout(StateManager control, Route route, long waitedNanos) {
        String waited = Durations.format(Duration.ofNanos(waitedNanos));
        if (route.throttler().capacity() > 0) {
            return "no pod of revision " + route.config().id() + " became free within " + waited;
        }
        List<PodCheck> checks = control.checks(route.config().id());
        int validating = 0;
        String lastError = null;
        for (PodCheck c : checks) {
            if (c.validating()) {
                validating++;
            }
            if (lastError == null && c.error() != null) {
                lastError = c.error();
            }
        }
        int notReady = 0;
        for (PodTracker t : route.throttler().table().trackers()) {
            if (!t.state().isRoutable()) {
                notReady++;
            }
        }
        StringBuilder why = new StringBuilder("no pod of revision ").append(route.config().id()).append(" is ready: ");
        if (validating == 0 && notReady == 0) {
            why.append("none is known (list pods or a service in sluice.yaml, or have pods report to POST /v1/pods)");
        } else {
            if (validating > 0) {
                why.append(validating).append(" validating");
            }
            if (notReady > 0) {
                why.append(validating > 0 ? ", " : "").append(notReady).append(" not ready or draining");
            }
        }
        if (lastError != null) {
            why.append(", last error: ").append(lastError);
        }
        return why.append(" (waited ").append(waited).append(')').toString();
    }
}
