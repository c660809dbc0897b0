package dev.sluice.server.proxy;

import dev.sluice.core.throttle.ColdStartWatch;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.RequestMetrics;

/**
 * A revision as the proxy sees it: its configuration, its throttler and its request metrics,
 * and the watch that times its cold starts (for the control API).
 */
public record Route(RevisionConfig config, RevisionThrottler throttler, RequestMetrics metrics,
        ColdStartWatch coldStart) {
}
