package dev.sluice.server.proxy;

/**
 * What an {@link Exchange} tells the client connection it runs on: the connection
 * ({@link ClientHandler}) makes each exchange and implements this, so the exchange reports back
 * through this interface and never names the connection's class. Called on the connection's
 * event loop only.
 */
interface ExchangeListener {

    /** Whether the request is an HTTP/2 stream (for metrics). */
    boolean http2();

    /** The largest body read whole before its request queues for a pod; 0: none is. */
    int requestBuffer();

    /**
     * The longest the request may wait in the queue, whatever the revision's queue timeout
     * ({@code grpc-timeout} on HTTP/2 streams); {@code Long.MAX_VALUE}: no such limit.
     */
    long queueLimitNanos();

    /** The exchange reads the client's body again after holding it back: the stall clock restarts. */
    void bodyReadResumed();

    /** The exchange has the whole body. */
    void bodyComplete();

    /**
     * The exchange has answered and released what it held; {@code keepAlive}: the connection
     * may serve the next request.
     */
    void exchangeDone(Exchange e, boolean keepAlive);
}
