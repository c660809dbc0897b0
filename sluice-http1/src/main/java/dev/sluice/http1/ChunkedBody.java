package dev.sluice.http1;

import io.netty.buffer.ByteBuf;

/**
 * The framing of a chunked body (RFC 9112 §7.1), for both framers: what the next element at a
 * buffer's reader index is — a chunk-size line, chunk data, the CRLF after it, a trailer line,
 * or the empty line that ends the body — and how long it is. It consumes nothing: the framer
 * passes the element on (or, de-chunking, does not) and skips {@link #length()} bytes before it
 * asks again. Limits: a chunk-size line of {@link #MAX_CHUNK_LINE} bytes, a trailer section of
 * {@link #MAX_TRAILERS}.
 *
 * <h2>Implementation notes</h2>
 * One per framer, used only on its connection's event loop: no synchronisation. {@link #next}
 * moves to the element after the one it reports, so the framer must skip exactly
 * {@link #length()} bytes each time (or stop reading the body, as it does after
 * {@link #MALFORMED}).
 */
final class ChunkedBody {

    /** Netty's default limits, which the decoders the framers replaced applied. */
    static final int MAX_CHUNK_LINE = 4096;
    static final int MAX_TRAILERS = 8192;

    /** More bytes are needed (an unfinished line, or no chunk data yet). */
    static final int MORE = 0;
    /** A chunk-size line, the CRLF after chunk data, or a trailer line. */
    static final int FRAMING = 1;
    /** Chunk data: all of the chunk's that is here, up to its end. */
    static final int DATA = 2;
    /** The empty line that ends the trailer section, and the body. */
    static final int LAST = 3;
    /** The framing is broken ({@link #error()} says how); read nothing more of the body. */
    static final int MALFORMED = -1;

    private static final int SIZE = 0;
    private static final int IN_DATA = 1;
    private static final int DATA_END = 2;
    private static final int TRAILERS = 3;

    private final String sizeLineTooLong;
    private final String trailersTooLong;
    private int phase;
    private long remaining;
    private int trailerBytes;
    private int length;
    private String error;

    /** {@code sizeLineTooLong}, {@code trailersTooLong}: how this framer words those two refusals. */
    ChunkedBody(String sizeLineTooLong, String trailersTooLong) {
        this.sizeLineTooLong = sizeLineTooLong;
        this.trailersTooLong = trailersTooLong;
    }

    /** A chunked body starts: its first element is a chunk-size line. */
    void start() {
        phase = SIZE;
        trailerBytes = 0;
    }

    /** The next element at {@code src}'s reader index: {@link #MORE}, {@link #FRAMING}, {@link #DATA}, {@link #LAST} or {@link #MALFORMED}. */
    int next(ByteBuf src) {
        int r = src.readerIndex();
        switch (phase) {
            case SIZE -> {
                int lf = HeadLines.findLine(src, MAX_CHUNK_LINE);
                if (lf < 0) {
                    return lf == -2 ? malformed(sizeLineTooLong) : MORE;
                }
                long size = HeadLines.chunkSize(src, r, lf);
                if (size < 0) {
                    return malformed("invalid chunk size");
                }
                length = lf + 1 - r;
                phase = size == 0 ? TRAILERS : IN_DATA;
                remaining = size;
                return FRAMING;
            }
            case IN_DATA -> {
                int n = (int) Math.min(remaining, src.readableBytes());
                if (n == 0) {
                    return MORE;
                }
                length = n;
                remaining -= n;
                if (remaining == 0) {
                    phase = DATA_END;
                }
                return DATA;
            }
            case DATA_END -> {
                int len = HeadLines.chunkEnd(src);
                if (len <= 0) {
                    return len == 0 ? MORE : malformed("chunk data not followed by CRLF");
                }
                length = len;
                phase = SIZE;
                return FRAMING;
            }
            default -> {
                int lf = HeadLines.findLine(src, MAX_TRAILERS - trailerBytes);
                if (lf < 0) {
                    return lf == -2 ? malformed(trailersTooLong) : MORE;
                }
                length = lf + 1 - r;
                trailerBytes += length;
                boolean empty = length == 1 || length == 2 && src.getByte(r) == '\r';
                return empty ? LAST : FRAMING;
            }
        }
    }

    /** The length of the element {@link #next} reported. */
    int length() {
        return length;
    }

    /** Why {@link #next} reported {@link #MALFORMED}. */
    String error() {
        return error;
    }

    private int malformed(String why) {
        error = why;
        return MALFORMED;
    }
}
