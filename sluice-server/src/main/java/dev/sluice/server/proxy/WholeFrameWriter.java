package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameSizePolicy;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2FrameWriter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * Netty's frame writer, but a HEADERS frame, and a small DATA frame, leave as one buffer each.
 * Netty's writes a frame's 9-byte header and its payload as two buffers with a promise each
 * (and encodes the header block into a third), so a relayed request's three frames were six
 * entries in the connection's outbound buffer, six promises and an aggregator per frame, each
 * allocated, completed and released; written whole, a relayed request costs 7.6 rather than
 * 8.8 µs of CPU (docs/benchmarks.md, "HTTP/2 relayed frames to frames"). Here HPACK (Netty's
 * encoder, the same state) encodes straight into the frame's buffer behind room left for the
 * frame header, which is filled in once the block's length is known; a DATA frame of at most
 * {@link #COPY_LIMIT} bytes is copied behind its header.
 *
 * <p>The bytes are Netty's, frame for frame: a header block longer than one frame goes out as
 * HEADERS and CONTINUATION frames split where Netty splits them, and every other frame, a padded
 * or prioritised HEADERS frame, and a DATA frame that is padded or larger go to Netty's writer
 * ({@code WholeFrameWriterTest} and {@code WholeFrameWriterFuzzTest} compare the two byte for
 * byte). Sluice writes no padding and no priority.
 *
 * <h2>Implementation notes</h2>
 * One per connection, used on its event loop only, as Netty's writer is; it holds no state of its
 * own beyond Netty's writer and HPACK encoder, which it shares with it.
 */
final class WholeFrameWriter implements Http2FrameWriter, Http2FrameWriter.Configuration, Http2FrameSizePolicy {

    /** The largest DATA payload copied behind its frame header rather than written on its own. */
    static final int COPY_LIMIT = 1024;
    private static final int FRAME_HEADER_LENGTH = 9;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;

    private final Http2HeadersEncoder hpack;
    private final DefaultHttp2FrameWriter netty;

    WholeFrameWriter(Http2HeadersEncoder.SensitivityDetector sensitive, boolean ignoreMaxHeaderListSize) {
        this.hpack = new DefaultHttp2HeadersEncoder(sensitive, ignoreMaxHeaderListSize);
        this.netty = new DefaultHttp2FrameWriter(hpack);
    }

    // ------------------------------------------------------------------ the frames written whole

    @Override
    public ChannelFuture writeHeaders(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
            boolean endStream, ChannelPromise promise) {
        if (padding != 0 || streamId <= 0) {
            return netty.writeHeaders(ctx, streamId, headers, padding, endStream, promise); // its checks, its errors
        }
        ByteBuf buf = ctx.alloc().buffer();
        try {
            int start = buf.writerIndex();
            buf.writerIndex(start + FRAME_HEADER_LENGTH);
            hpack.encodeHeaders(streamId, headers, buf);
            int block = buf.writerIndex() - start - FRAME_HEADER_LENGTH;
            int max = netty.maxFrameSize();
            if (block > max) {
                ByteBuf frames = continued(ctx, buf, start + FRAME_HEADER_LENGTH, block, max, streamId, endStream);
                buf.release();
                buf = frames;
            } else {
                header(buf, start, block, Http2FrameTypes.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId);
            }
            ByteBuf out = buf;
            buf = null;
            return ctx.write(out, promise);
        } catch (Http2Exception e) {
            return promise.setFailure(e); // as Netty's: a header list too large for the peer, say
        } catch (Throwable t) {
            promise.setFailure(t);
            throw t;
        } finally {
            if (buf != null) {
                buf.release();
            }
        }
    }

    @Override
    public ChannelFuture writeData(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
            boolean endStream, ChannelPromise promise) {
        int n = data.readableBytes();
        if (padding != 0 || n > COPY_LIMIT || streamId <= 0) {
            return netty.writeData(ctx, streamId, data, padding, endStream, promise);
        }
        ByteBuf buf;
        try {
            buf = ctx.alloc().buffer(FRAME_HEADER_LENGTH + n);
        } catch (Throwable t) {
            data.release();
            return promise.setFailure(t);
        }
        header(buf, buf.writerIndex(), n, Http2FrameTypes.DATA, endStream ? END_STREAM : 0, streamId);
        buf.writerIndex(buf.writerIndex() + FRAME_HEADER_LENGTH);
        buf.writeBytes(data, data.readerIndex(), n);
        data.release();
        return ctx.write(buf, promise);
    }

    /**
     * A header block longer than one frame ({@code block} bytes at {@code from} in {@code encoded}),
     * as one HEADERS frame and the CONTINUATION frames that follow it, in a new buffer.
     */
    private static ByteBuf continued(ChannelHandlerContext ctx, ByteBuf encoded, int from, int block, int max,
            int streamId, boolean endStream) {
        int frames = (block + max - 1) / max;
        ByteBuf out = ctx.alloc().buffer(block + frames * FRAME_HEADER_LENGTH);
        int at = from;
        int left = block;
        boolean first = true;
        while (left > 0) {
            int size = Math.min(left, max);
            left -= size;
            int flags = (left == 0 ? END_HEADERS : 0) | (first && endStream ? END_STREAM : 0);
            int header = out.writerIndex();
            header(out, header, size, first ? Http2FrameTypes.HEADERS : Http2FrameTypes.CONTINUATION, flags, streamId);
            out.writerIndex(header + FRAME_HEADER_LENGTH);
            out.writeBytes(encoded, at, size);
            at += size;
            first = false;
        }
        return out;
    }

    /** A frame header at {@code at}, written in place (the writer index is not moved). */
    private static void header(ByteBuf buf, int at, int length, byte type, int flags, int streamId) {
        buf.ensureWritable(Math.max(0, at + FRAME_HEADER_LENGTH - buf.writerIndex()));
        buf.setMedium(at, length);
        buf.setByte(at + 3, type);
        buf.setByte(at + 4, flags);
        buf.setInt(at + 5, streamId);
    }

    // ------------------------------------------------------------------ everything else: Netty's

    @Override
    public ChannelFuture writeHeaders(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
            int streamDependency, short weight, boolean exclusive, int padding, boolean endStream,
            ChannelPromise promise) {
        return netty.writeHeaders(ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream,
                promise);
    }

    @Override
    public ChannelFuture writePriority(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
            boolean exclusive, ChannelPromise promise) {
        return netty.writePriority(ctx, streamId, streamDependency, weight, exclusive, promise);
    }

    @Override
    public ChannelFuture writeRstStream(ChannelHandlerContext ctx, int streamId, long errorCode,
            ChannelPromise promise) {
        return netty.writeRstStream(ctx, streamId, errorCode, promise);
    }

    @Override
    public ChannelFuture writeSettings(ChannelHandlerContext ctx, Http2Settings settings, ChannelPromise promise) {
        return netty.writeSettings(ctx, settings, promise);
    }

    @Override
    public ChannelFuture writeSettingsAck(ChannelHandlerContext ctx, ChannelPromise promise) {
        return netty.writeSettingsAck(ctx, promise);
    }

    @Override
    public ChannelFuture writePing(ChannelHandlerContext ctx, boolean ack, long data, ChannelPromise promise) {
        return netty.writePing(ctx, ack, data, promise);
    }

    @Override
    public ChannelFuture writePushPromise(ChannelHandlerContext ctx, int streamId, int promisedStreamId,
            Http2Headers headers, int padding, ChannelPromise promise) {
        return netty.writePushPromise(ctx, streamId, promisedStreamId, headers, padding, promise);
    }

    @Override
    public ChannelFuture writeGoAway(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData,
            ChannelPromise promise) {
        return netty.writeGoAway(ctx, lastStreamId, errorCode, debugData, promise);
    }

    @Override
    public ChannelFuture writeWindowUpdate(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement,
            ChannelPromise promise) {
        return netty.writeWindowUpdate(ctx, streamId, windowSizeIncrement, promise);
    }

    @Override
    public ChannelFuture writeFrame(ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
            ByteBuf payload, ChannelPromise promise) {
        return netty.writeFrame(ctx, frameType, streamId, flags, payload, promise);
    }

    // ------------------------------------------------------------------ configuration: Netty's

    @Override
    public Configuration configuration() {
        return this;
    }

    @Override
    public Http2HeadersEncoder.Configuration headersConfiguration() {
        return hpack.configuration();
    }

    @Override
    public Http2FrameSizePolicy frameSizePolicy() {
        return this;
    }

    @Override
    public void maxFrameSize(int max) throws Http2Exception {
        netty.maxFrameSize(max);
    }

    @Override
    public int maxFrameSize() {
        return netty.maxFrameSize();
    }

    @Override
    public void close() {
        netty.close();
    }
}
