/**
 * The data plane: a Netty HTTP/1.1 proxy. {@link dev.sluice.server.proxy.ClientHandler} takes
 * each request from a client connection, identifies its revision
 * ({@link dev.sluice.server.proxy.Routes}), asks the revision's throttler for a pod without
 * blocking, and streams the request and response through a keep-alive connection from
 * {@link dev.sluice.server.proxy.UpstreamPool} (one pool per event loop, so no locks). Neither
 * direction is decoded into header maps: {@link dev.sluice.server.proxy.RequestFramer} and
 * {@link dev.sluice.server.proxy.ResponseFramer} parse what framing, routing and the hop-by-hop
 * rewrite need and pass the rest of the bytes through. The client side's timeouts, connection
 * cap and request buffering are in {@code ClientHandler} and {@code Exchange} (settings:
 * {@link dev.sluice.server.config.ClientLimits}); when a request may be sent to a pod twice,
 * in {@code ReplayRule}.
 */
package dev.sluice.server.proxy;
