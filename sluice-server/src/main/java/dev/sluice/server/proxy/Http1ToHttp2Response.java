package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.ByteProcessor;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * The HTTP/1.1 answer of an HTTP/2 stream's request, written back as HTTP/2 frames: the status
 * and fields as one HEADERS frame (connection-specific fields dropped, RFC 9113 §8.2.2), the
 * body as DATA frames, a chunked body's trailer section as a trailing HEADERS frame, and the
 * stream ended with the body. What it reads is either a pod's response as the
 * {@link dev.sluice.http1.ResponseFramer} forwards it (canonical: a whole head, then a body of
 * {@code content-length}, or chunked with bare sizes and CRLFs, or up to the close), or one of
 * Sluice's own answers ({@link Answers}, a {@link FullHttpResponse} object). An answer with no
 * body (a gRPC answer of Sluice's among them) is one HEADERS frame that ends the stream: gRPC's
 * trailers-only response. Informational (1xx) heads are dropped.
 *
 * <h2>Implementation notes</h2>
 * Outbound, on the stream channel's event loop only. The body's bytes pass as slices of what
 * was written (no copy); only a head, chunk line or trailer section cut across two writes is
 * gathered ({@link #partial}). The write's promise is completed once its frames are written
 * (the ordering of the channel's writes is kept, so a close listener on it runs after them).
 */
final class Http1ToHttp2Response extends ChannelOutboundHandlerAdapter {

    private static final int HEAD = 0;
    private static final int LENGTH = 1;
    private static final int CHUNK_SIZE = 2;
    private static final int CHUNK_DATA = 3;
    private static final int CHUNK_END = 4;
    private static final int TRAILERS = 5;
    private static final int UNTIL_CLOSE = 6;
    private static final int DONE = 7;

    private static final ByteProcessor FIND_LF = ByteProcessor.FIND_LF;

    private int state = HEAD;
    private long remaining;
    private boolean headRequest;
    /** Bytes of a head, chunk line or trailer section that a write cut short. */
    private ByteBuf partial;

    /** The request is a HEAD: its answer has no body, whatever its fields say. */
    void headRequest() {
        headRequest = true;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof FullHttpResponse r) {
            try {
                answer(ctx, r);
            } finally {
                r.release();
            }
            promise.trySuccess();
        } else if (msg instanceof ByteBuf b) {
            feed(ctx, b);
            promise.trySuccess();
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state == UNTIL_CLOSE) {
            // The body was framed by the pod's close: on HTTP/2 it ends with the stream.
            state = DONE;
            ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        }
        release();
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }

    // ------------------------------------------------------------------ Sluice's own answers

    private void answer(ChannelHandlerContext ctx, FullHttpResponse r) {
        if (state != HEAD) {
            return;
        }
        state = DONE;
        Http2Headers h = new DefaultHttp2Headers().status(r.status().codeAsText());
        for (Map.Entry<String, String> f : r.headers()) {
            String name = f.getKey().toLowerCase(Locale.ROOT);
            if (!connectionSpecific(name)) {
                h.add(name, f.getValue());
            }
        }
        ByteBuf body = r.content();
        if (headRequest || !body.isReadable()) {
            ctx.write(new DefaultHttp2HeadersFrame(h, true));
            return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(h, false));
        ctx.write(new DefaultHttp2DataFrame(body.retain(), true));
    }

    // ------------------------------------------------------------------ a pod's framed bytes

    private void feed(ChannelHandlerContext ctx, ByteBuf b) {
        ByteBuf in = b;
        if (partial != null) {
            in = ctx.alloc().buffer(partial.readableBytes() + b.readableBytes()).writeBytes(partial).writeBytes(b);
            partial.release();
            b.release();
            partial = null;
        }
        try {
            parse(ctx, in);
            if (in.isReadable() && state != DONE) {
                partial = in.retain();
            }
        } finally {
            in.release();
        }
    }

    private void parse(ChannelHandlerContext ctx, ByteBuf in) {
        while (in.isReadable()) {
            switch (state) {
                case HEAD -> {
                    int end = headEnd(in);
                    if (end < 0) {
                        return;
                    }
                    head(ctx, in, end);
                }
                case LENGTH -> {
                    int n = (int) Math.min(in.readableBytes(), remaining);
                    remaining -= n;
                    boolean last = remaining == 0;
                    ctx.write(new DefaultHttp2DataFrame(in.readRetainedSlice(n), last));
                    if (last) {
                        state = DONE;
                    }
                }
                case CHUNK_SIZE -> {
                    int lf = in.forEachByte(FIND_LF);
                    if (lf < 0) {
                        return;
                    }
                    long size = Long.parseLong(in.toString(in.readerIndex(), lf - 1 - in.readerIndex(),
                            StandardCharsets.US_ASCII).trim(), 16);
                    in.readerIndex(lf + 1);
                    if (size == 0) {
                        state = TRAILERS;
                    } else {
                        remaining = size;
                        state = CHUNK_DATA;
                    }
                }
                case CHUNK_DATA -> {
                    int n = (int) Math.min(in.readableBytes(), remaining);
                    remaining -= n;
                    ctx.write(new DefaultHttp2DataFrame(in.readRetainedSlice(n), false));
                    if (remaining == 0) {
                        state = CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    if (in.readableBytes() < 2) {
                        return;
                    }
                    in.skipBytes(2);
                    state = CHUNK_SIZE;
                }
                case TRAILERS -> {
                    if (in.readableBytes() >= 2 && in.getByte(in.readerIndex()) == '\r') {
                        in.skipBytes(2);
                        state = DONE;
                        ctx.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
                        continue;
                    }
                    int end = headEnd(in);
                    if (end < 0) {
                        return;
                    }
                    Http2Headers t = new DefaultHttp2Headers();
                    fields(in, in.readerIndex(), end, t);
                    in.readerIndex(end);
                    state = DONE;
                    ctx.write(new DefaultHttp2HeadersFrame(t, true));
                }
                case UNTIL_CLOSE -> ctx.write(new DefaultHttp2DataFrame(in.readRetainedSlice(in.readableBytes()), false));
                default -> in.skipBytes(in.readableBytes()); // nothing follows an answer
            }
        }
    }

    /** Where the blank line that ends a head (or trailer section) at the reader index ends, or -1. */
    private static int headEnd(ByteBuf in) {
        int from = in.readerIndex();
        int to = in.writerIndex();
        for (int i = in.indexOf(from, to, (byte) '\n'); i >= 0; i = in.indexOf(i + 1, to, (byte) '\n')) {
            if (i + 2 < to && in.getByte(i + 1) == '\r' && in.getByte(i + 2) == '\n') {
                return i + 3;
            }
        }
        return -1;
    }

    private void head(ChannelHandlerContext ctx, ByteBuf in, int end) {
        int from = in.readerIndex();
        int lineEnd = in.indexOf(from, end, (byte) '\n');
        // "HTTP/1.1 200 OK": the status is the three digits after the first space
        int sp = in.indexOf(from, lineEnd, (byte) ' ');
        int status = (in.getByte(sp + 1) - '0') * 100 + (in.getByte(sp + 2) - '0') * 10 + (in.getByte(sp + 3) - '0');
        in.readerIndex(end);
        if (status >= 100 && status < 200) {
            return; // informational: no HTTP/2 client here waits for one (state stays HEAD)
        }
        Http2Headers h = new DefaultHttp2Headers().status(AsciiString.of(Integer.toString(status)));
        long length = fields(in, lineEnd + 1, end, h);
        boolean chunked = length == -2;
        boolean noBody = headRequest || status == 204 || status == 304;
        if (noBody || length == 0) {
            state = DONE;
            ctx.write(new DefaultHttp2HeadersFrame(h, true));
            return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(h, false));
        if (chunked) {
            state = CHUNK_SIZE;
        } else if (length > 0) {
            remaining = length;
            state = LENGTH;
        } else {
            state = UNTIL_CLOSE;
        }
    }

    /**
     * Adds the field lines between {@code from} and {@code end} to {@code h}, names in lower
     * case, connection-specific ones left out; returns the content length, -2 if chunked, -1 if
     * neither was said.
     */
    private static long fields(ByteBuf in, int from, int end, Http2Headers h) {
        long length = -1;
        int at = from;
        while (at < end) {
            int lf = in.indexOf(at, end, (byte) '\n');
            if (lf < 0 || lf - at <= 1) {
                break; // the blank line
            }
            int colon = in.indexOf(at, lf, (byte) ':');
            if (colon > at) {
                String name = in.toString(at, colon - at, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
                String value = in.toString(colon + 1, lf - 1 - colon - 1, StandardCharsets.UTF_8).strip();
                if (name.equals("transfer-encoding")) {
                    length = -2;
                } else if (!connectionSpecific(name)) {
                    if (name.equals("content-length") && length != -2) {
                        length = Long.parseLong(value);
                    }
                    h.add(name, value);
                }
            }
            at = lf + 1;
        }
        return length;
    }

    /** Fields HTTP/2 forbids (RFC 9113 §8.2.2). */
    private static boolean connectionSpecific(String name) {
        return switch (name) {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade" -> true;
            default -> false;
        };
    }
}
