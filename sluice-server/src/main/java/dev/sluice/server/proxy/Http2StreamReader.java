package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The frames of one HTTP/2 stream, in the order a message has them: the first HEADERS is the
 * head, DATA the body, a later HEADERS that ends the stream the trailers; nothing after the
 * end. Shared by the two translations to HTTP/1.1 ({@link Http2ToHttp1Request} on the client's
 * side, {@link Http2ToHttp1Response} on a pod's), which say what each part becomes. Each frame
 * is released here once its part has been handled.
 *
 * <h2>Implementation notes</h2>
 * One instance per stream child channel, called on that channel's event loop only.
 */
abstract class Http2StreamReader extends ChannelInboundHandlerAdapter {

    static final byte[] CRLF = {'\r', '\n'};
    static final byte[] LAST_CHUNK = {'0', '\r', '\n'};

    /** The head has been handled. */
    boolean headSent;
    /** The HTTP/1.1 body is chunked (its length was not known from the head). */
    boolean chunked;
    /** The stream has ended (or was given up): later frames are dropped. */
    boolean ended;

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (ended) {
                return;
            }
            if (msg instanceof Http2HeadersFrame h) {
                if (!headSent) {
                    head(ctx, h.headers(), h.isEndStream());
                } else if (h.isEndStream()) {
                    trailers(ctx, h.headers());
                }
            } else if (msg instanceof Http2DataFrame d) {
                data(ctx, d.content(), d.isEndStream());
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** The stream's first HEADERS; sets {@link #headSent}. */
    abstract void head(ChannelHandlerContext ctx, Http2Headers h, boolean endStream);

    /** A DATA frame; {@code content} is released after this returns. */
    abstract void data(ChannelHandlerContext ctx, ByteBuf content, boolean endStream);

    /** A later HEADERS that ends the stream. */
    abstract void trailers(ChannelHandlerContext ctx, Http2Headers h);

    /** The chunked body's end: the last chunk, {@code h}'s fields as its trailer section, the blank line. */
    static void lastChunk(ChannelHandlerContext ctx, Http2Headers h) {
        ByteBuf out = ctx.alloc().buffer(128);
        out.writeBytes(LAST_CHUNK);
        for (Map.Entry<CharSequence, CharSequence> f : h) {
            if (f.getKey().length() > 0 && f.getKey().charAt(0) != ':') {
                field(out, f.getKey(), f.getValue());
            }
        }
        out.writeBytes(CRLF);
        ctx.fireChannelRead(out);
    }

    /** One HTTP/1.1 field line. */
    static void field(ByteBuf out, CharSequence name, CharSequence value) {
        out.writeCharSequence(name, StandardCharsets.US_ASCII);
        out.writeByte(':');
        out.writeByte(' ');
        out.writeCharSequence(value, StandardCharsets.UTF_8);
        out.writeBytes(CRLF);
    }
}
