package dev.sluice.server.metrics;

import dev.sluice.core.throttle.Rejection;

/** How a request ended; its wire name is the {@code Sluice-Reason} header and the metric label. */
public enum Outcome {
    /** Proxied to a pod; the pod's status code is the answer. */
    PROXIED("proxied"),
    QUEUE_FULL("queue-full"),
    /** The request's tenant already had its cap of requests waiting (queueing.tenantCap): 503, or 429 like queue-full. */
    TENANT_QUEUE_FULL("tenant-queue-full"),
    /** The request waited in a lower class and a higher-class request took its place in a full queue: 503. */
    PREEMPTED("preempted"),
    QUEUE_TIMEOUT("queue-timeout"),
    REQUEST_TIMEOUT("request-timeout"),
    RESPONSE_START_TIMEOUT("response-start-timeout"),
    UPSTREAM_ERROR("upstream-error"),
    /**
     * The pod's connection closed before any answer, and the request may have reached it and is
     * not safe to send twice ({@code ReplayRule}): 502.
     */
    UPSTREAM_CLOSED("upstream-closed"),
    REVISION_CLOSED("revision-closed"),
    REVISION_UNAVAILABLE("revision-unavailable"),
    SHUTTING_DOWN("shutting-down"),
    /**
     * The request broke HTTP/1 framing: its body (a bad chunk) after it was admitted, 400; or,
     * as the {@code Sluice-Reason} of a head refused before routing, 400, 414, 431, 501 or 505.
     */
    MALFORMED_REQUEST("malformed-request"),
    /** No revision matched the request (404): it never reached a revision, so no revision counts it. */
    UNKNOWN_REVISION("unknown-revision"),
    /** The request's body stalled (client.timeouts.bodyStall): 408, or a close once the answer began. */
    REQUEST_BODY_TIMEOUT("request-body-timeout"),
    /** Not a request's outcome (it never had a revision): the {@code Sluice-Reason} of a head that came too slowly. */
    REQUEST_HEAD_TIMEOUT("request-head-timeout"),
    /** Not a request's outcome: the {@code Sluice-Reason} of a connection refused past client.maxConnections. */
    TOO_MANY_CONNECTIONS("too-many-connections"),
    /**
     * The Sluice replica that owns the revision could not be reached and nothing of the request
     * was sent to it: 503 (serving it here instead could put a pod over its limit).
     */
    OWNER_UNREACHABLE("owner-unreachable"),
    /** The client went away before the answer. */
    CLIENT_CLOSED("client-closed");

    private final String wireName;

    Outcome(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Outcome of(Rejection r) {
        return switch (r) {
            case QUEUE_FULL -> QUEUE_FULL;
            case TENANT_QUEUE_FULL -> TENANT_QUEUE_FULL;
            case PREEMPTED -> PREEMPTED;
            case QUEUE_TIMEOUT -> QUEUE_TIMEOUT;
            case REVISION_CLOSED -> REVISION_CLOSED;
            case REVISION_UNAVAILABLE -> REVISION_UNAVAILABLE;
            case SHUTTING_DOWN -> SHUTTING_DOWN;
        };
    }
}
