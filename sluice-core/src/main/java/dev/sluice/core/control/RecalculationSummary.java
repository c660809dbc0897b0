package dev.sluice.core.control;

/**
 * What a recalculation from a discovery snapshot did. Each is logged at DEBUG (no per-pod
 * lines); at INFO, a revision writes at most one summary of its recalculations every 10 s.
 *
 * @param added      trackers created (not-ready or pending pods; ready ones are validated first)
 * @param validating new pods claiming READY whose readiness check was started
 * @param draining   tracked pods missing from the snapshot or reported draining, now draining
 * @param removed    trackers removed (idle and out of rotation)
 * @param changed    trackers whose state changed
 * @param unchanged  trackers left as they were
 */
public record RecalculationSummary(int added, int validating, int draining, int removed, int changed, int unchanged) {
}
