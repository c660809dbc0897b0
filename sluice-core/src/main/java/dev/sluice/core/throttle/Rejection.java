package dev.sluice.core.throttle;

/**
 * Why a request was not given a pod. Each has a stable wire name, used in the
 * {@code Sluice-Reason} header and as a metric label.
 */
public enum Rejection {
    /** The revision's queue is at its configured depth. */
    QUEUE_FULL("queue-full"),
    /** The request's tenant has as many requests waiting as its cap allows (others may still queue). */
    TENANT_QUEUE_FULL("tenant-queue-full"),
    /** The request waited in a lower class and was evicted by a higher-class request arriving at a full queue. */
    PREEMPTED("preempted"),
    /** The request waited in the queue past its deadline. */
    QUEUE_TIMEOUT("queue-timeout"),
    /** The revision was closed (deleted from the configuration) while the request waited. */
    REVISION_CLOSED("revision-closed"),
    /** The revision's control path failed and did not recover in time. */
    REVISION_UNAVAILABLE("revision-unavailable"),
    /** Sluice is shutting down. */
    SHUTTING_DOWN("shutting-down");

    private final String wireName;

    Rejection(String wireName) {
        this.wireName = wireName;
    }

    /** Stable lower-case name, e.g. {@code queue-full}. */
    public String wireName() {
        return wireName;
    }
}
