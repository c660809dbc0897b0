package dev.sluice.server.config;

import java.time.Duration;

/**
 * What the proxy port allows its clients ({@code client:} in {@code sluice.yaml}), so that a
 * slow or idle client cannot hold a connection, or a pod's slot, for long.
 *
 * @param headTimeout      a request head must be complete this long after its first byte (on a
 *                         new connection: after the accept), else 408 and close
 * @param idleTimeout      a kept-alive connection with no request in progress and no byte for
 *                         this long is closed, without an answer
 * @param bodyStallTimeout no byte of a request body for this long while Sluice reads it: 408
 *                         (or a close, if the answer has begun), and the pod's slot is freed
 * @param maxConnections   client connections open at once; past it a new connection is
 *                         answered 503 {@code too-many-connections} and closed
 * @param requestBuffer    a body up to this many bytes is read whole before the request
 *                         queues for a pod (0: bodies stream as they come)
 */
public record ClientLimits(Duration headTimeout, Duration idleTimeout, Duration bodyStallTimeout,
        int maxConnections, int requestBuffer) {

    public static final Duration DEFAULT_HEAD_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /**
     * Long enough for a slow mobile uplink or TCP's retransmission backoff after a few losses
     * (which reaches tens of seconds), short enough that a stalled upload frees a GPU slot in
     * a tenth of the default 300 s request timeout.
     */
    public static final Duration DEFAULT_BODY_STALL_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final int DEFAULT_REQUEST_BUFFER = 1 << 20;

    public static final ClientLimits DEFAULTS = new ClientLimits(DEFAULT_HEAD_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
            DEFAULT_BODY_STALL_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_BUFFER);
}
