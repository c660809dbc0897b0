package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.Locale;
import java.util.Map;

/**
 * The HTTP/1.1 answer to an HTTP/2 client's stream, written back as the stream's frames
 * ({@link Http1ToFrames}): either a pod's response as the
 * {@link dev.sluice.http1.ResponseFramer} forwards it, or one of Sluice's own answers
 * ({@link Answers}, a {@link FullHttpResponse} object). An answer with no body (a gRPC answer of
 * Sluice's among them) is one HEADERS frame that ends the stream: gRPC's trailers-only
 * response. Informational (1xx) heads are dropped: no HTTP/2 client here waits for one
 * ({@link Http2ToHttp1Request} drops {@code Expect}).
 *
 * <h2>Implementation notes</h2>
 * Outbound, on the stream channel's event loop only, like its base.
 */
final class Http1ToHttp2Response extends Http1ToFrames {

    private boolean headRequest;

    /** The request is a HEAD: its answer has no body, whatever its fields say. */
    void headRequest() {
        headRequest = true;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof FullHttpResponse r) {
            try {
                answer(ctx, r, promise);
            } finally {
                r.release();
            }
        } else {
            super.write(ctx, msg, promise);
        }
    }

    private void answer(ChannelHandlerContext ctx, FullHttpResponse r, ChannelPromise promise) {
        if (!notStarted()) {
            promise.trySuccess();
            return;
        }
        finish();
        Http2Headers h = new DefaultHttp2Headers().status(r.status().codeAsText());
        for (Map.Entry<String, String> f : r.headers()) {
            String name = f.getKey().toLowerCase(Locale.ROOT);
            if (!connectionSpecific(name)) {
                h.add(name, f.getValue());
            }
        }
        ByteBuf body = r.content();
        if (headRequest || !body.isReadable()) {
            ctx.write(new DefaultHttp2HeadersFrame(h, true), promise);
            return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(h, false), ctx.voidPromise());
        ctx.write(new DefaultHttp2DataFrame(body.retain(), true), promise);
    }

    @Override
    long head(ChannelHandlerContext ctx, ByteBuf in, int from, int lineEnd, int end) {
        // "HTTP/1.1 200 OK": the status is the three digits after the first space
        int sp = in.indexOf(from, lineEnd, (byte) ' ');
        int status = (in.getByte(sp + 1) - '0') * 100 + (in.getByte(sp + 2) - '0') * 10 + (in.getByte(sp + 3) - '0');
        if (status < 200) {
            return SKIP;
        }
        Http2Headers h = new DefaultHttp2Headers().status(HttpResponseStatus.valueOf(status).codeAsText());
        long length = fields(in, lineEnd + 1, end, h);
        if (headRequest || status == 204 || status == 304 || length == 0) {
            emit(ctx, new DefaultHttp2HeadersFrame(h, true));
            return 0;
        }
        emit(ctx, new DefaultHttp2HeadersFrame(h, false));
        return length;
    }
}
