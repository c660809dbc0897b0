package dev.sluice.server.proxy;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;

/**
 * The HTTP/2 connection state of the relay's connections: Netty's, with the uniform byte
 * distributor for what each side sends. Streams here carry requests, not a page's resources
 * with a priority tree; the default weighted distributor walked that tree on every flush and
 * was the largest single cost of a relayed request after HPACK (a profile of
 * {@code bench/h2-steady.sh}), the uniform one keeps one queue of streams with data.
 */
final class H2Connections {

    private H2Connections() {
    }

    /** A connection's state for the client ({@code server}) or the pod side. */
    static Http2Connection uniform(boolean server) {
        Http2Connection c = new DefaultHttp2Connection(server);
        c.remote().flowController(new DefaultHttp2RemoteFlowController(c, new UniformStreamByteDistributor(c)));
        return c;
    }

    /** The frame codec of an HTTP/2 client connection to Sluice. */
    static Http2FrameCodec clientCodec(Http2Settings settings) {
        return new Server(uniform(true)).initialSettings(settings).build();
    }

    /** {@link Http2FrameCodecBuilder#forServer()}, on a connection given (the setter is the subclass's). */
    private static final class Server extends Http2FrameCodecBuilder {
        Server(Http2Connection connection) {
            gracefulShutdownTimeoutMillis(0);
            connection(connection); // a server's (the builder takes one of the two, not both)
        }
    }
}
