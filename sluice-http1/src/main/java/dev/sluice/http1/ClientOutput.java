package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The bytes for the client that {@link ResponseFramer} produces from one read of the pod's,
 * gathered in one buffer so that a head and a small body leave in one write; body parts over
 * {@link #COPY_MAX} go out as slices of the read buffer, after what was gathered before them.
 *
 * <h2>Implementation notes</h2>
 * One per response framer, on its connection's event loop only: no synchronisation. The
 * buffer is handed to the sink by {@link #flush} (or released by {@link #discard}); between
 * reads the framer holds none.
 */
final class ClientOutput {

    /** Body parts up to this size are copied into the outgoing buffer; larger ones are sliced. */
    static final int COPY_MAX = 4096;
    private static final int OUT_MAX = 16 * 1024;

    private ByteBuf out;

    /** The buffer being gathered, made with {@code size} bytes of room if there is none. */
    ByteBuf buffer(ByteBufAllocator alloc, int size) {
        if (out == null) {
            out = alloc.buffer(size);
        }
        return out;
    }

    /** Passes on {@code src[from, from + len)}: copied if small, else sliced. */
    void emit(ByteBuf src, int from, int len, ByteBufAllocator alloc, ResponseFramer.Sink sink) {
        if (len == 0) {
            return;
        }
        ByteBuf o = out;
        if (o != null && o.readableBytes() + len <= OUT_MAX && (len <= COPY_MAX || o.writableBytes() >= len)) {
            o.writeBytes(src, from, len);
        } else if (len <= COPY_MAX) {
            flush(sink);
            out = alloc.buffer(Math.max(len, 256));
            out.writeBytes(src, from, len);
        } else {
            flush(sink);
            sink.clientBytes(src.retainedSlice(from, len));
        }
    }

    /** Appends a CRLF (the end of a chunk-size line whose extensions were dropped). */
    void crlf(ByteBufAllocator alloc, ResponseFramer.Sink sink) {
        if (out == null || out.readableBytes() + 2 > OUT_MAX) {
            flush(sink);
            out = alloc.buffer(256);
        }
        out.writeBytes(HeadLines.CRLF);
    }

    /** Hands what was gathered to the sink. */
    void flush(ResponseFramer.Sink sink) {
        ByteBuf o = out;
        if (o != null) {
            out = null;
            if (o.isReadable()) {
                sink.clientBytes(o);
            } else {
                o.release();
            }
        }
    }

    /** Drops what was gathered (the response cannot be forwarded, or the connection is gone). */
    void discard() {
        if (out != null) {
            out.release();
            out = null;
        }
    }
}
