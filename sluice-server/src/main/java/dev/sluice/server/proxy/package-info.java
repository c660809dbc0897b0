/**
 * The data plane: a Netty HTTP/1.1 proxy, which also takes h2c and speaks h2c to pods. Start reading at
 * {@link dev.sluice.server.proxy.ProxyServer} (the client pipeline), then follow the request's
 * way top to bottom: {@link dev.sluice.server.proxy.ClientHandler} (one per client connection:
 * client timeouts, the pipelined backlog, {@link dev.sluice.server.proxy.Routes}) makes one
 * {@link dev.sluice.server.proxy.Exchange} per request, read in three parts (base classes, so a
 * request is one object): {@link dev.sluice.server.proxy.Admission} asks the revision's
 * throttler for a pod without blocking; {@link dev.sluice.server.proxy.PodLink} takes a
 * keep-alive connection from {@link dev.sluice.server.proxy.UpstreamPool} (one pool per event
 * loop, so no locks), sends the request and decides a replay; {@code Exchange} itself handles
 * the request's events, deadlines and its one ending; {@link dev.sluice.server.proxy.Relay} (one per connection) carries
 * the bytes both ways and owns every auto-read decision. The pod's way runs back through
 * {@link dev.sluice.server.proxy.UpstreamHandler}. No two classes call each other: the exchange
 * reports to its connection through {@link dev.sluice.server.proxy.ExchangeListener}, and the
 * pod's connection to its exchange through {@code UpstreamHandler.Listener}.
 *
 * <p>Neither direction is decoded into header maps: the framers of {@link dev.sluice.http1}
 * ({@link dev.sluice.http1.RequestFramer}, behind {@link dev.sluice.server.proxy.RequestDecoder},
 * and {@link dev.sluice.http1.ResponseFramer}) parse what framing, routing and the hop-by-hop
 * rewrite need and forward the messages in canonical form. The client side's settings are
 * {@link dev.sluice.server.config.ClientLimits}; when a request may be sent to a pod twice is
 * {@code ReplayRule}'s; the event loops' deadlines are {@code Deadlines}. OS and JVM tuning is
 * in {@link dev.sluice.server.platform}.
 *
 * <p>HTTP/2 goes one of two ways. {@link dev.sluice.server.proxy.PrefaceSniffer} tells an h2c
 * client by its preface and {@link dev.sluice.server.proxy.H2ClientConnection} installs the
 * codec. Bodiless requests and gRPC calls to h2c revisions served here are relayed frames to
 * frames: {@link dev.sluice.server.proxy.H2Relay} (between the codec and the multiplexer) takes
 * the stream, {@link dev.sluice.server.proxy.H2RelayStream} (an {@code Admission}) is its
 * request, and {@link dev.sluice.server.proxy.H2RelayPod} the pod's HTTP/2 connection, with
 * writes flushed once per loop turn by {@link dev.sluice.server.proxy.LoopFlusher}. Every other
 * stream is translated: a child channel with the HTTP/1.1 pipeline behind
 * {@link dev.sluice.server.proxy.Http2ToHttp1Request} and
 * {@link dev.sluice.server.proxy.Http1ToHttp2Response}; toward an h2c pod,
 * {@link dev.sluice.server.proxy.H2PodConnections} opens a stream per request whose pipeline is
 * {@link dev.sluice.server.proxy.Http1ToHttp2Request}, {@link dev.sluice.server.proxy.Http2ToHttp1Response}
 * and the same {@code UpstreamHandler}. What gRPC needs of Sluice (its own answers,
 * {@code grpc-timeout}) is {@link dev.sluice.server.proxy.Grpc}.
 */
package dev.sluice.server.proxy;
