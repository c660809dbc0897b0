package dev.sluice.server.proxy;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.handler.codec.http2.WriterChains;

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
        return WriterChains.build(new FrameCodecs().initialSettings(settings), uniform(true), writer(), false);
    }

    /**
     * The frame codec of a connection to an h2c pod: streams past the pod's
     * {@code SETTINGS_MAX_CONCURRENT_STREAMS} wait in the encoder.
     */
    static Http2FrameCodec podCodec(Http2Settings settings) {
        return WriterChains.build(new FrameCodecs().initialSettings(settings), uniform(false), writer(), true);
    }

    /** The frame writer of Sluice's HTTP/2 connections (header fields never marked sensitive, as Netty's default). */
    static WholeFrameWriter writer() {
        return new WholeFrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, false);
    }

    /**
     * Netty's frame codec builder as its factories make it, less the server flag they set (the
     * connection given to {@link WriterChains} says it).
     */
    private static final class FrameCodecs extends Http2FrameCodecBuilder {
        FrameCodecs() {
            gracefulShutdownTimeoutMillis(0);
        }
    }
}
