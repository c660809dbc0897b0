package dev.sluice.core.control;

import dev.sluice.core.balance.PolicyKind;
import java.time.Duration;
import java.util.Objects;

/**
 * How one revision is run by the control path.
 *
 * @param containerConcurrency requests one pod may serve at once; 0 = unlimited
 * @param maxScale             pods the revision may have (≤ 0: unknown); sizes the pod table
 * @param queueDepth           requests that may wait for a pod
 * @param policy               the load-balancing policy
 * @param staleThreshold       a PENDING or NOT_READY pod with no event for this long is removed
 * @param drainTimeout         a DRAINING pod is removed after this long even with requests in flight
 * @param recoveryTimeout      if the revision's writer fails and has not recovered after this
 *                             long, waiting requests are rejected rather than left to hang
 */
public record RevisionSettings(int containerConcurrency, int maxScale, int queueDepth, PolicyKind policy,
        Duration staleThreshold, Duration drainTimeout, Duration recoveryTimeout) {

    public static final int DEFAULT_QUEUE_DEPTH = 10_000;
    public static final Duration DEFAULT_STALE_THRESHOLD = Duration.ofMinutes(10);
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(300);
    public static final Duration DEFAULT_RECOVERY_TIMEOUT = Duration.ofSeconds(30);

    /** @throws IllegalArgumentException naming the field that is out of range */
    public RevisionSettings {
        if (containerConcurrency < 0) {
            throw new IllegalArgumentException("containerConcurrency must be >= 0 (0 = unlimited), was "
                    + containerConcurrency);
        }
        if (queueDepth < 0) {
            throw new IllegalArgumentException("queueDepth must be >= 0, was " + queueDepth);
        }
        Objects.requireNonNull(policy, "policy");
        positive("staleThreshold", staleThreshold);
        positive("drainTimeout", drainTimeout);
        positive("recoveryTimeout", recoveryTimeout);
    }

    private static void positive(String field, Duration d) {
        Objects.requireNonNull(d, field);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(field + " must be positive, was " + d);
        }
    }

    /** Defaults for a containerConcurrency: its default policy, queue 10,000, 10 min stale, 300 s drain. */
    public static RevisionSettings defaults(int containerConcurrency) {
        return new RevisionSettings(containerConcurrency, 0, DEFAULT_QUEUE_DEPTH,
                PolicyKind.defaultFor(containerConcurrency), DEFAULT_STALE_THRESHOLD, DEFAULT_DRAIN_TIMEOUT,
                DEFAULT_RECOVERY_TIMEOUT);
    }
}
