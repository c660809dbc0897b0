package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP/1.1 message written to an HTTP/2 stream channel, turned into the stream's frames:
 * the head as one HEADERS frame (its start line read by the subclass, the fields with their
 * names in lower case, connection-specific ones dropped, RFC 9113 §8.2.2), the body as DATA
 * frames, a chunked body's trailer section as a trailing HEADERS frame, the stream ended with
 * the body. What it reads is canonical, as the framers of {@code sluice-http1} forward it: a
 * whole head, then a body of {@code content-length}, chunked with bare sizes, or up to the
 * close; so this is a splitter, not a validating parser.
 *
 * <h2>Implementation notes</h2>
 * Outbound, on the stream channel's event loop only. Body bytes pass as slices of what was
 * written (no copy); only a head, chunk line or trailer section cut across two writes is
 * gathered ({@link #partial}). A write's promise is completed once its frames are written, in
 * order, so a close listener on it runs after them.
 */
abstract class Http1ToFrames extends ChannelOutboundHandlerAdapter {

    /** {@link #head}'s answers besides a length: chunked, up to the close, and a head to skip (1xx). */
    static final long CHUNKED = -2;
    static final long UNTIL_CLOSE = -1;
    static final long SKIP = -3;

    private static final int HEAD = 0;
    private static final int LENGTH = 1;
    private static final int CHUNK_SIZE = 2;
    private static final int CHUNK_DATA = 3;
    private static final int CHUNK_END = 4;
    private static final int TRAILERS = 5;
    private static final int BODY_TO_CLOSE = 6;
    private static final int DONE = 7;

    private static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS_VALUE = AsciiString.cached("trailers");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final AsciiString[] CONNECTION_SPECIFIC = {AsciiString.cached("connection"),
        AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"), TRANSFER_ENCODING,
        AsciiString.cached("upgrade")};

    private int state = HEAD;
    private long remaining;
    /** The promise of the write being turned into frames: its first frame takes it. */
    private ChannelPromise promise;
    /** Bytes of a head, chunk line or trailer section that a write cut short. */
    private ByteBuf partial;

    /**
     * The message's head, from {@code from} (its start line ends at {@code lineEnd}, the LF) to
     * {@code end}: write its HEADERS frame and say how its body is framed: a length ({@code 0}:
     * none, the HEADERS frame ended the stream), {@link #CHUNKED}, {@link #UNTIL_CLOSE}, or
     * {@link #SKIP} (nothing written; another head follows).
     */
    abstract long head(ChannelHandlerContext ctx, ByteBuf in, int from, int lineEnd, int end);

    /** Whether the message was written whole (its last frame ended the stream). */
    final boolean done() {
        return state == DONE;
    }

    /** The message was answered otherwise: nothing more of it is written. */
    final void finish() {
        state = DONE;
    }

    /** Whether nothing of the message has been written yet. */
    final boolean notStarted() {
        return state == HEAD;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf b) {
            this.promise = promise;
            feed(ctx, b);
            if (this.promise != null) {
                this.promise = null;
                promise.trySuccess(); // no frame came of it (a partial line, or after the end)
            }
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        endAtClose(ctx);
        release();
        ctx.close(promise);
    }

    /** A body framed by the close ends with it: on HTTP/2, with its stream (an empty last DATA frame). */
    final void endAtClose(ChannelHandlerContext ctx) {
        if (state == BODY_TO_CLOSE) {
            state = DONE;
            emit(ctx, new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), true);
            ctx.flush();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    /**
     * Writes a frame of the message ({@code end}: the frame ends the stream); the first of a
     * write's frames carries the write's promise, so a failure to open the stream (its HEADERS)
     * reaches whoever asked.
     */
    final void emit(ChannelHandlerContext ctx, Object frame, boolean end) {
        ChannelPromise p = promise;
        if (p != null) {
            promise = null;
        } else {
            p = ctx.voidPromise();
        }
        if (state != HEAD) {
            p = bodyFrame(ctx, p);
        }
        ctx.write(frame, end ? streamEnd(ctx, p) : p);
    }

    /**
     * The promise for a frame after the head (DATA, trailers), given the one it would have:
     * that one here; a subclass whose stream's end is reported otherwise may return one that
     * does not report a failed write.
     */
    ChannelPromise bodyFrame(ChannelHandlerContext ctx, ChannelPromise p) {
        return p;
    }

    /**
     * The promise for the frame that ends the stream, given the one it would have: that one
     * here; a subclass that must act once that frame is written returns one it can watch.
     */
    ChannelPromise streamEnd(ChannelHandlerContext ctx, ChannelPromise p) {
        return p;
    }

    private void release() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }

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
                    int end = blankLineEnd(in);
                    if (end < 0) {
                        return;
                    }
                    int from = in.readerIndex();
                    int lineEnd = in.indexOf(from, end, (byte) '\n');
                    in.readerIndex(end);
                    long body = head(ctx, in, from, lineEnd, end);
                    if (body == SKIP) {
                        continue;
                    }
                    if (body == 0) {
                        state = DONE;
                    } else if (body == CHUNKED) {
                        state = CHUNK_SIZE;
                    } else if (body == UNTIL_CLOSE) {
                        state = BODY_TO_CLOSE;
                    } else {
                        remaining = body;
                        state = LENGTH;
                    }
                }
                case LENGTH -> {
                    int n = (int) Math.min(in.readableBytes(), remaining);
                    remaining -= n;
                    boolean last = remaining == 0;
                    emit(ctx, new DefaultHttp2DataFrame(in.readRetainedSlice(n), last), last);
                    if (last) {
                        state = DONE;
                    }
                }
                case CHUNK_SIZE -> {
                    int lf = in.forEachByte(ByteProcessor.FIND_LF);
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
                    emit(ctx, new DefaultHttp2DataFrame(in.readRetainedSlice(n), false), false);
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
                        emit(ctx, new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), true);
                        continue;
                    }
                    int end = blankLineEnd(in);
                    if (end < 0) {
                        return;
                    }
                    Http2Headers t = new DefaultHttp2Headers();
                    fields(in, in.readerIndex(), end, t);
                    in.readerIndex(end);
                    state = DONE;
                    emit(ctx, new DefaultHttp2HeadersFrame(t, true), true);
                }
                case BODY_TO_CLOSE -> emit(ctx, new DefaultHttp2DataFrame(in.readRetainedSlice(in.readableBytes()),
                        false), false);
                default -> in.skipBytes(in.readableBytes()); // nothing follows the message
            }
        }
    }

    /** Where the blank line that ends a head (or trailer section) at the reader index ends, or -1. */
    private static int blankLineEnd(ByteBuf in) {
        int from = in.readerIndex();
        int to = in.writerIndex();
        if (to - from >= 2 && in.getByte(from) == '\r' && in.getByte(from + 1) == '\n') {
            return from + 2;
        }
        for (int i = in.indexOf(from, to, (byte) '\n'); i >= 0; i = in.indexOf(i + 1, to, (byte) '\n')) {
            if (i + 2 < to && in.getByte(i + 1) == '\r' && in.getByte(i + 2) == '\n') {
                return i + 3;
            }
        }
        return -1;
    }

    /**
     * Adds the field lines between {@code from} and {@code end} to {@code h}, names in lower
     * case, connection-specific ones and {@code host} left out; returns the content length,
     * {@link #CHUNKED}, or {@link #UNTIL_CLOSE} if neither was said. A request's {@code Host}
     * (when {@code h} has a method) becomes {@code :authority}.
     *
     * <p>Names and values are copied once, as the bytes they are ({@link AsciiString}: what the
     * HPACK encoder writes without converting, and a value's octets pass unchanged), not decoded
     * into {@code String}s and lowered and stripped into more of them: on the HTTP/2 paths this
     * ran for every field of every request and response.
     */
    static long fields(ByteBuf in, int from, int end, Http2Headers h) {
        long length = UNTIL_CLOSE;
        int at = from;
        while (at < end) {
            int lf = in.indexOf(at, end, (byte) '\n');
            if (lf < 0 || lf - at <= 1) {
                break; // the blank line
            }
            int colon = in.indexOf(at, lf, (byte) ':');
            if (colon > at) {
                AsciiString name = lowerName(in, at, colon);
                int v = colon + 1;
                int ve = lf - 1; // before the CR
                while (v < ve && isOws(in.getByte(v))) {
                    v++;
                }
                while (ve > v && isOws(in.getByte(ve - 1))) {
                    ve--;
                }
                AsciiString value = bytes(in, v, ve);
                if (TRANSFER_ENCODING.contentEquals(name)) {
                    length = CHUNKED;
                } else if (HOST.contentEquals(name)) {
                    if (h.authority() == null && h.method() != null) {
                        h.authority(value);
                    }
                } else if (TE.contentEquals(name)) {
                    if (value.contentEqualsIgnoreCase(TRAILERS_VALUE)) {
                        h.add(name, value); // the one value HTTP/2 allows (gRPC sends it)
                    }
                } else if (!connectionSpecific(name)) {
                    if (length != CHUNKED && CONTENT_LENGTH.contentEquals(name)) {
                        length = value.parseLong();
                    }
                    h.add(name, value);
                }
            }
            at = lf + 1;
        }
        return length;
    }

    /** The bytes from {@code from} to {@code to}, copied. */
    static AsciiString bytes(ByteBuf in, int from, int to) {
        if (to <= from) {
            return AsciiString.EMPTY_STRING;
        }
        byte[] b = new byte[to - from];
        in.getBytes(from, b);
        return new AsciiString(b, false);
    }

    /** A field name's bytes, copied, in lower case (HTTP/2 sends names so, RFC 9113 §8.2.1). */
    private static AsciiString lowerName(ByteBuf in, int from, int to) {
        byte[] b = new byte[to - from];
        in.getBytes(from, b);
        for (int i = 0; i < b.length; i++) {
            byte c = b[i];
            if (c >= 'A' && c <= 'Z') {
                b[i] = (byte) (c + ('a' - 'A'));
            }
        }
        return new AsciiString(b, false);
    }

    private static boolean isOws(byte b) {
        return b == ' ' || b == '\t';
    }

    /** Fields HTTP/2 forbids (RFC 9113 §8.2.2); {@code name} in lower case. */
    static boolean connectionSpecific(CharSequence name) {
        for (AsciiString f : CONNECTION_SPECIFIC) {
            if (f.contentEquals(name)) {
                return true;
            }
        }
        return false;
    }
}
