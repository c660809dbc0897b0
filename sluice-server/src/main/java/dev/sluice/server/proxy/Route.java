package dev.sluice.server.proxy;

import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.RequestMetrics;

/**
 * A revision as the proxy sees it: its configuration, its throttler, its request metrics and,
 * with several replicas, which one owns it ({@code owner}, null when Sluice runs alone).
 */
public record Route(RevisionConfig config, RevisionThrottler throttler, RequestMetrics metrics, RouteOwner owner) {

    /** A route of a Sluice running alone. */
    public Route(RevisionConfig config, RevisionThrottler throttler, RequestMetrics metrics) {
        this(config, throttler, metrics, null);
    }
}
