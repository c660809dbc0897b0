package dev.sluice.server.proxy;

import dev.sluice.core.throttle.ColdStartWatch;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.RequestMetrics;

/**
 * A revision as the proxy sees it: its configuration, its throttler, its request metrics, the
 * watch that times its cold starts (for the control API) and, with several replicas, which one
 * owns it ({@code owner}, null when Sluice runs alone).
 */
public record Route(RevisionConfig config, RevisionThrottler throttler, RequestMetrics metrics,
        ColdStartWatch coldStart, RouteOwner owner) {
}
