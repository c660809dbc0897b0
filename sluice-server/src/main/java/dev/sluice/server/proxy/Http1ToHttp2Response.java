package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
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
    /** The write of the answer's last frame (see {@link #close}). */
    private ChannelFuture answered;
    /** A close waits for {@link #answered}. */
    private boolean closing;

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
            ctx.write(new DefaultHttp2HeadersFrame(h, true), streamEnd(ctx, promise));
            return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(h, false), ctx.voidPromise());
        ctx.write(new DefaultHttp2DataFrame(body.retain(), true), streamEnd(ctx, promise));
    }

    /**
     * The answer's last frame: its write is watched (one promise per answer), so that
     * {@link #close} can wait for it.
     */
    @Override
    ChannelPromise streamEnd(ChannelHandlerContext ctx, ChannelPromise p) {
        ChannelPromise watched = p.unvoid();
        answered = watched;
        return watched;
    }

    /**
     * The exchange is over. A stream whose answer was written whole is closed only once the
     * answer's last frame has gone out: the channel's own close resets a stream not yet ended
     * both ways {@code CANCEL} at once, which drops the answer's frames that still wait (for
     * the client's window, or for a flush), and which a client counts as a failed request. If
     * the client is still sending its request then (a pod, or Sluice, answered before the body
     * ended), the stream is ended with RST_STREAM {@code NO_ERROR}: the answer is complete and
     * the client may stop sending (RFC 9113 §8.1). A stream whose answer did not end is
     * closed at once: {@code CANCEL}, the answer cut short. A second close while the first
     * waits ends with it: closing at once reset the stream {@code CANCEL} under the answer,
     * its last frames dropped or not (an answer framed by the pod's close, in
     * {@code H2EarlyAnswerIT}: 2 of 150 runs against a CPU burner).
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        endAtClose(ctx); // an answer framed by the close: its last frame, first
        ChannelFuture last = answered;
        if (last == null) {
            super.close(ctx, promise);
            return;
        }
        if (closing) {
            // a close already waits for the answer's last frame: this one ends with it, rather
            // than closing now (which would reset the stream CANCEL under the answer)
            ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
            return;
        }
        closing = true;
        last.addListener(f -> {
            if (f.isSuccess() && clientSending(ctx)) {
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR))
                        .addListener(r -> super.close(ctx, promise));
            } else {
                super.close(ctx, promise);
            }
        });
    }

    /** Whether the client's side of the stream is still open (its request not ended, nor reset). */
    private static boolean clientSending(ChannelHandlerContext ctx) {
        Http2Stream.State s = ((Http2StreamChannel) ctx.channel()).stream().state();
        return s == Http2Stream.State.OPEN || s == Http2Stream.State.HALF_CLOSED_LOCAL;
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
            emit(ctx, new DefaultHttp2HeadersFrame(h, true), true);
            return 0;
        }
        emit(ctx, new DefaultHttp2HeadersFrame(h, false), false);
        return length;
    }
}
