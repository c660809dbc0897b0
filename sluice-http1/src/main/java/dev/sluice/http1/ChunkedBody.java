package dev.sluice.http1;

import io.netty.buffer.ByteBuf;

/**
 * The framing of a chunked body (RFC 9112 §7.1), for both framers: what the next element at a
 * buffer's reader index is — a chunk-size line, chunk data, the CRLF after it, a trailer line,
 * or the empty line that ends the body — how long it is, and how much of it is forwarded. It
 * consumes nothing: the framer forwards the element's first {@link #keep()} bytes (or,
 * de-chunking, none), then a CRLF if {@link #keep()} is less than {@link #length()}, and skips
 * {@link #length()} bytes before it asks again.
 *
 * <p>What is forwarded is canonical, so a recipient whose parser is laxer or stricter than
 * Sluice's reads the same body: every line ends in CRLF (a bare LF is refused), a chunk-size
 * line is its hexadecimal digits alone (extensions are checked against the grammar of RFC 9112
 * §7.1.1, then dropped; whitespace after the size with no extension is refused), chunk data is
 * followed by CRLF, and a trailer line is a well-formed field line (RFC 9112 §5: a token name,
 * a colon, a value without control characters; no obsolete line folding). Limits: a chunk-size
 * line of {@link #MAX_CHUNK_LINE} bytes, a trailer section of {@link #MAX_TRAILERS}.
 *
 * <h2>Implementation notes</h2>
 * One per framer, used only on its connection's event loop: no synchronisation. {@link #next}
 * moves to the element after the one it reports, so the framer must skip exactly
 * {@link #length()} bytes each time (or stop reading the body, as it does after
 * {@link #MALFORMED}). A line split across reads is reported as {@link #MORE} and parsed again
 * from its start once the framer has more bytes.
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
    private int keep;
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
                int lf = findLine(src, MAX_CHUNK_LINE);
                if (lf < 0) {
                    return lf == -2 ? malformed(sizeLineTooLong) : MORE;
                }
                if (lf == r || src.getByte(lf - 1) != '\r') {
                    return malformed("a chunk-size line not ended by CRLF");
                }
                int digitsEnd = sizeDigitsEnd(src, r, lf - 1);
                if (digitsEnd < 0) {
                    return malformed(error);
                }
                long size = remaining; // sizeDigitsEnd left it there
                length = lf + 1 - r;
                keep = digitsEnd == lf - 1 ? length : digitsEnd - r;
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
                keep = n;
                remaining -= n;
                if (remaining == 0) {
                    phase = DATA_END;
                }
                return DATA;
            }
            case DATA_END -> {
                int avail = src.readableBytes();
                if (avail >= 1 && src.getByte(r) != '\r' || avail >= 2 && src.getByte(r + 1) != '\n') {
                    return malformed("chunk data not followed by CRLF");
                }
                if (avail < 2) {
                    return MORE;
                }
                length = 2;
                keep = 2;
                phase = SIZE;
                return FRAMING;
            }
            default -> {
                int lf = findLine(src, MAX_TRAILERS - trailerBytes);
                if (lf < 0) {
                    return lf == -2 ? malformed(trailersTooLong) : MORE;
                }
                if (lf == r || src.getByte(lf - 1) != '\r') {
                    return malformed("a trailer line not ended by CRLF");
                }
                length = lf + 1 - r;
                keep = length;
                trailerBytes += length;
                if (length == 2) {
                    return LAST;
                }
                String why = fieldLineError(src, r, lf - 1);
                return why == null ? FRAMING : malformed(why);
            }
        }
    }

    /** The length of the element {@link #next} reported. */
    int length() {
        return length;
    }

    /** How many of the element's first bytes are forwarded; if fewer than {@link #length()}, a CRLF follows them. */
    int keep() {
        return keep;
    }

    /** Why {@link #next} reported {@link #MALFORMED}. */
    String error() {
        return error;
    }

    private int malformed(String why) {
        error = why;
        return MALFORMED;
    }

    /** The LF ending the line at {@code buf}'s reader index, -1 if not here yet, -2 if none within {@code max} bytes. */
    static int findLine(ByteBuf buf, int max) {
        int r = buf.readerIndex();
        int w = buf.writerIndex();
        int lf = buf.indexOf(r, Math.min(w, r + Math.max(max, 0)), (byte) '\n');
        return lf < 0 && w - r >= max ? -2 : lf;
    }

    /**
     * {@code chunk-size [ chunk-ext ]} from {@code start} to {@code end} (the CR): the index
     * after the size's hexadecimal digits (the size in {@link #remaining}), or -1 ({@link #error} set) if there are none, too many
     * for a long, or what follows them is not {@code chunk-ext} (RFC 9112 §7.1.1):
     * {@code *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )}.
     */
    private int sizeDigitsEnd(ByteBuf buf, int start, int end) {
        int i = start;
        long size = 0;
        for (int d; i < end && (d = hex(buf.getByte(i))) >= 0; i++) {
            size = size * 16 + d;
        }
        if (i == start || i - start > 15) {
            error = "invalid chunk size";
            return -1;
        }
        remaining = size;
        int digitsEnd = i;
        while (i < end) {
            i = skipBws(buf, i, end);
            if (i == end) {
                error = "whitespace after the chunk size";
                return -1;
            }
            if (buf.getByte(i) != ';') {
                error = "invalid chunk size";
                return -1;
            }
            i = skipBws(buf, i + 1, end);
            int nameEnd = skipToken(buf, i, end);
            if (nameEnd == i) {
                error = "a chunk extension without a name";
                return -1;
            }
            i = skipBws(buf, nameEnd, end);
            if (i < end && buf.getByte(i) == '=') {
                i = skipBws(buf, i + 1, end);
                int valueEnd = i < end && buf.getByte(i) == '"' ? skipQuoted(buf, i, end) : skipToken(buf, i, end);
                if (valueEnd <= i) {
                    error = "a chunk extension whose value is not a token or quoted-string";
                    return -1;
                }
                i = valueEnd;
            } else if (i < end && buf.getByte(i) != ';') {
                error = "a chunk extension with a character that is not allowed";
                return -1;
            } else if (i == end && Ascii.isOws(buf.getByte(i - 1))) {
                error = "whitespace at the end of a chunk-size line";
                return -1;
            }
        }
        return digitsEnd;
    }

    private static int hex(byte c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static int skipBws(ByteBuf buf, int i, int end) {
        while (i < end && Ascii.isOws(buf.getByte(i))) {
            i++;
        }
        return i;
    }

    private static int skipToken(ByteBuf buf, int i, int end) {
        while (i < end && Ascii.isTokenChar(buf.getByte(i))) {
            i++;
        }
        return i;
    }

    /** The index after the quoted-string at {@code i} (its opening quote), or -1 if it is not one. */
    private static int skipQuoted(ByteBuf buf, int i, int end) {
        for (i++; i < end; i++) {
            int c = buf.getByte(i) & 0xff;
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                if (++i == end) {
                    return -1;
                }
                c = buf.getByte(i) & 0xff;
            }
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return -1;
            }
        }
        return -1;
    }

    /** Why the trailer line from {@code start} to {@code end} (its CR) is not a field line, or null if it is one. */
    private static String fieldLineError(ByteBuf buf, int start, int end) {
        byte first = buf.getByte(start);
        if (Ascii.isOws(first)) {
            return "obsolete line folding in the trailers";
        }
        int i = skipToken(buf, start, end);
        if (i == start || i == end || buf.getByte(i) != ':') {
            return "a trailer line that is not a header field (name: value)";
        }
        for (i++; i < end; i++) {
            int c = buf.getByte(i) & 0xff;
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return "control character in a trailer value";
            }
        }
        return null;
    }
}
