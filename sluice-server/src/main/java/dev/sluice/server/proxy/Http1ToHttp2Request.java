package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;

/**
 * A request as the {@link dev.sluice.http1.RequestFramer} wrote it for a pod, sent on a stream
 * to an h2c pod ({@link Http1ToFrames}): {@code :method}, {@code :path} and {@code :authority}
 * from the request line and {@code Host}, {@code :scheme http}, the fields in lower case, the
 * body as DATA frames (a chunked body's trailers as trailers: gRPC's client streaming needs
 * them), the stream ended with it.
 *
 * <p>A body frame's failed write is not reported down the pipeline: it fails only because the
 * stream is gone, reset by a pod that answered before reading the whole body (then stopped the
 * upload, RFC 9113 §8.1) or lost with its connection, and the stream's end reaches the
 * {@link UpstreamHandler} anyway, as the channel's close, after the answer's frames that came
 * before it. Reported, the failure would end the exchange at once and cut short an answer
 * whose last frames still waited to be read. The head's failure is reported: its stream never
 * opened, so the request was not sent.
 *
 * <h2>Implementation notes</h2>
 * Outbound, on the pod stream channel's event loop only, like its base.
 */
final class Http1ToHttp2Request extends Http1ToFrames {

    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString GET = AsciiString.cached("GET");
    private static final AsciiString POST = AsciiString.cached("POST");
    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");

    /** A void promise that drops a failure (the channel's own fires it down the pipeline). */
    private ChannelPromise quiet;

    @Override
    long head(ChannelHandlerContext ctx, ByteBuf in, int from, int lineEnd, int end) {
        int sp1 = in.indexOf(from, lineEnd, (byte) ' ');
        int sp2 = in.indexOf(sp1 + 1, lineEnd, (byte) ' ');
        Http2Headers h = new DefaultHttp2Headers()
                .method(method(in, from, sp1))
                .path(bytes(in, sp1 + 1, sp2))
                .scheme(HTTP);
        long length = fields(in, lineEnd + 1, end, h);
        // TE is hop-by-hop, so the framer dropped the client's; Sluice itself takes trailers
        // (and passes them on), which gRPC servers insist on hearing.
        h.set(TE, TRAILERS);
        if (length == UNTIL_CLOSE) {
            length = 0; // a request without a length or chunked coding has no body (RFC 9112 §6.3)
        }
        emit(ctx, new DefaultHttp2HeadersFrame(h, length == 0), length == 0);
        return length;
    }

    @Override
    ChannelPromise bodyFrame(ChannelHandlerContext ctx, ChannelPromise p) {
        if (!p.isVoid()) {
            return p;
        }
        if (quiet == null) {
            quiet = new VoidChannelPromise(ctx.channel(), false);
        }
        return quiet;
    }

    /** The request line's method: the common ones as constants, others copied. */
    private static AsciiString method(ByteBuf in, int from, int to) {
        int n = to - from;
        if (n == 3 && in.getByte(from) == 'G' && in.getByte(from + 1) == 'E' && in.getByte(from + 2) == 'T') {
            return GET;
        }
        if (n == 4 && in.getByte(from) == 'P' && in.getByte(from + 1) == 'O' && in.getByte(from + 2) == 'S'
                && in.getByte(from + 3) == 'T') {
            return POST;
        }
        return bytes(in, from, to);
    }
}
