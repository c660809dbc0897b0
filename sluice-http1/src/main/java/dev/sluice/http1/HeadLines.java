package dev.sluice.http1;

import static dev.sluice.http1.Ascii.equalsIgnoreCase;
import static dev.sluice.http1.Ascii.indexOf;
import static dev.sluice.http1.Ascii.isOws;
import static dev.sluice.http1.Ascii.isTokenChar;
import static dev.sluice.http1.Ascii.regionEqualsIgnoreCase;
import static dev.sluice.http1.Ascii.validText;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The lines of one HTTP/1.x head, a request's or a response's, found in the read buffer and
 * parsed on a copy: where each line starts and ends, each header's colon and trimmed value, and
 * whether the header lines are well formed (RFC 9112 §5). Both framers ({@link RequestFramer},
 * {@link ResponseFramer}) use it, and its byte-level helpers, so the two directions accept and
 * refuse the same header syntax.
 *
 * <h2>Implementation notes</h2>
 * Nothing in it outlives one head's parse (a head split across reads is parsed again from its
 * start), so the framers do not own one: they {@link #borrow} their thread's for the parse and
 * {@link #giveBack} it, and an event loop's connections share one set of arrays. One per
 * connection cost ~1.1 KB of heap for each open connection (10,000 waiting requests: 40.6
 * against 29.2 MB). If a sink callback made during a parse parses another head on the same
 * thread, that parse gets an instance of its own. The arrays grow only for a head larger than
 * any before on the thread. The head is found and parsed on a copy: per-byte access to a
 * {@code ByteBuf} checks bounds and the reference count on every call (most of the response
 * framer's time before the copy, and, while the end of the head was still looked for on the
 * buffer, 2% of the proxy's CPU samples); one {@code getBytes} does not.
 */
final class HeadLines {

    /** Line kinds a framer gives header lines; each framer adds its own from {@link #FIRST_FREE}. */
    static final int KEEP = 0;
    static final int DROP = 1;
    static final int FIRST_FREE = 2;

    // The wire's words both framers look for or write.
    static final byte[] CRLF = {'\r', '\n'};
    static final byte[] KEEP_ALIVE = "connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] UPGRADE = "connection: upgrade\r\nupgrade: ".getBytes(StandardCharsets.US_ASCII);
    static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
    static final AsciiString CONNECTION = AsciiString.cached("connection");
    static final AsciiString UPGRADE_NAME = AsciiString.cached("upgrade");
    static final AsciiString CHUNKED = AsciiString.cached("chunked");
    private static final AsciiString CLOSE_TOKEN = AsciiString.cached("close");
    private static final AsciiString KEEP_ALIVE_TOKEN = AsciiString.cached("keep-alive");

    private static final int START = 0;
    private static final int COLON = 1;
    private static final int END = 2;
    private static final int KIND = 3;
    private static final int VALUE_START = 4;
    private static final int VALUE_END = 5;
    private static final int WIDTH = 6;

    private static final List<AsciiString> HOP_BY_HOP = ForwardingHeaders.HOP_BY_HOP;

    /** Per line: start, colon, end (exclusive, before CR LF), kind, value start, value end. */
    private int[] lines = new int[WIDTH * 16];
    private int count;
    /** Header names a Connection header listed: start and length pairs. */
    private int[] named = new int[8];
    private int namedCount;
    /** One list's elements (start, length pairs), see {@link #splitList}. */
    private int[] tokens = new int[8];
    /** The head, copied out of the read buffer. */
    private byte[] b = new byte[512];
    /** The message being assembled from the head ({@link #put}), and its length. */
    private byte[] out = new byte[512];
    private int outLength;
    private String error;
    private boolean firstLineTooLong;
    private boolean borrowed;

    private static final FastThreadLocal<HeadLines> SHARED = new FastThreadLocal<>() {
        @Override
        protected HeadLines initialValue() {
            return new HeadLines();
        }
    };

    /** This thread's instance for one parse; give it back ({@link #giveBack}) when the parse is done. */
    static HeadLines borrow() {
        HeadLines h = SHARED.get();
        if (h.borrowed) {
            return new HeadLines(); // a parse further up this thread's stack holds it
        }
        h.borrowed = true;
        return h;
    }

    void giveBack() {
        borrowed = false;
    }
    private int headLength;

    /** The copied head's bytes (valid after {@link #copy}). */
    byte[] bytes() {
        return b;
    }

    /** Lines found, the first (request or status) line included. */
    int count() {
        return count;
    }

    int start(int line) {
        return lines[line * WIDTH + START];
    }

    int end(int line) {
        return lines[line * WIDTH + END];
    }

    int colon(int line) {
        return lines[line * WIDTH + COLON];
    }

    int nameLength(int line) {
        return colon(line) - start(line);
    }

    int valueStart(int line) {
        return lines[line * WIDTH + VALUE_START];
    }

    int valueEnd(int line) {
        return lines[line * WIDTH + VALUE_END];
    }

    int kind(int line) {
        return lines[line * WIDTH + KIND];
    }

    void kind(int line, int kind) {
        lines[line * WIDTH + KIND] = kind;
    }

    /** Why {@link #scan} or {@link #checkHeaders} refused the head. */
    String error() {
        return error;
    }

    /**
     * Finds the end of the head that starts at {@code buf}'s reader index (after any empty
     * lines, which are skipped, RFC 9112 §2.2), copies it into {@link #bytes()} and records its
     * lines there. Returns {@code buf}'s index after the empty line that ends the head; -1 if
     * more bytes are needed; -2 if the head, or its first line, is over its limit
     * ({@link #error} says which: {@code what} names the message, {@code firstLine} its first
     * line). The bytes are copied in growing steps, so a large body behind a small head is not.
     */
    int scan(ByteBuf buf, int maxHead, int maxFirstLine, String what, String firstLine) {
        int base = buf.readerIndex();
        int avail = buf.readableBytes();
        int copied = 0;
        int start = -1;
        int pos = 0; // the start of the line being looked at
        int from = 0; // where its LF is looked for: the bytes before have none
        count = 0;
        while (true) {
            if (from >= copied) {
                int want = Math.min(avail, Math.min(maxHead + (start < 0 ? 0 : start), Math.max(512, copied * 2)));
                if (want <= copied) {
                    break; // nothing more to look at
                }
                if (b.length < want) {
                    b = Arrays.copyOf(b, Math.max(want, b.length * 2));
                }
                buf.getBytes(base + copied, b, copied, want - copied);
                copied = want;
            }
            if (start < 0) {
                while (pos < copied && (b[pos] == '\r' || b[pos] == '\n')) {
                    pos++;
                }
                from = pos;
                if (pos == copied) {
                    continue;
                }
                start = pos;
            }
            int lf = indexOf(b, from, Math.min(copied, start + maxHead), (byte) '\n');
            if (lf < 0) {
                from = copied;
                if (copied - start >= maxHead) {
                    break;
                }
                continue;
            }
            int end = lf > pos && b[lf - 1] == '\r' ? lf - 1 : lf;
            if (end == pos && count > 0) {
                buf.readerIndex(base + start);
                headLength = lf + 1 - start;
                return base + lf + 1;
            }
            if (count == 0 && end - pos > maxFirstLine) {
                return tooLong(firstLine + " over " + maxFirstLine + " bytes", true);
            }
            add(pos, end);
            pos = lf + 1;
            from = pos;
        }
        if (start >= 0) {
            buf.readerIndex(base + start); // the empty lines before the head are gone
        } else {
            buf.readerIndex(base + avail);
            return -1;
        }
        int have = avail - start;
        if (have >= maxHead) {
            return tooLong(what + " head over " + maxHead + " bytes", false);
        }
        if (count == 0 && have > maxFirstLine) {
            return tooLong(firstLine + " over " + maxFirstLine + " bytes", true);
        }
        return -1;
    }

    /** True if {@link #scan}'s last -2 was for the first line (not the whole head). */
    boolean firstLineTooLong() {
        return firstLineTooLong;
    }

    private int tooLong(String why, boolean firstLine) {
        error = why;
        firstLineTooLong = firstLine;
        return -2;
    }

    private void add(int start, int end) {
        int i = count * WIDTH;
        if (i + WIDTH > lines.length) {
            lines = Arrays.copyOf(lines, lines.length * 2);
        }
        lines[i + START] = start;
        lines[i + COLON] = -1;
        lines[i + END] = end;
        lines[i + KIND] = KEEP;
        count++;
    }

    /** The length of the head {@link #scan} found last, from its first line to its empty line's end. */
    int headLength() {
        return headLength;
    }

    /**
     * Checks every header line (all but the first) and finds its colon and its value, optional
     * whitespace trimmed. Returns false, with {@link #error}, for obsolete line folding, a
     * line without a colon, an empty name, a name that is not a token (which covers whitespace
     * before the colon) or a control character in a value.
     */
    boolean checkHeaders() {
        namedCount = 0;
        for (int li = 1; li < count; li++) {
            int ls = start(li);
            int le = end(li);
            if (b[ls] == ' ' || b[ls] == '\t') {
                return refuse("obsolete line folding in the headers");
            }
            int colon = indexOf(b, ls, le, (byte) ':');
            if (colon <= ls) {
                return refuse(colon < 0 ? "a header line without a colon" : "a header with an empty name");
            }
            for (int i = ls; i < colon; i++) {
                if (!isTokenChar(b[i])) {
                    return refuse("header name with a character that is not allowed (whitespace before the colon?)");
                }
            }
            int vs = colon + 1;
            int ve = le;
            while (vs < ve && isOws(b[vs])) {
                vs++;
            }
            while (ve > vs && isOws(b[ve - 1])) {
                ve--;
            }
            if (!validText(b, vs, ve)) {
                return refuse("control character in a header value");
            }
            int i = li * WIDTH;
            lines[i + COLON] = colon;
            lines[i + VALUE_START] = vs;
            lines[i + VALUE_END] = ve;
        }
        return true;
    }

    private boolean refuse(String why) {
        error = why;
        return false;
    }

    /** Whether header line {@code line}'s name is {@code lower} (lower-case ASCII) in any case. */
    boolean nameIs(int line, AsciiString lower) {
        return equalsIgnoreCase(b, start(line), nameLength(line), lower);
    }

    /** Whether header line {@code line} is one of the fixed hop-by-hop headers. */
    boolean isHopByHop(int line) {
        for (int h = 0, n = HOP_BY_HOP.size(); h < n; h++) {
            if (nameIs(line, HOP_BY_HOP.get(h))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Splits header line {@code line}'s value, a comma-separated list, into {@link #token}
     * pairs (optional whitespace trimmed, empty elements skipped); returns how many.
     */
    int splitList(int line) {
        int from = valueStart(line);
        int to = valueEnd(line);
        int n = 0;
        for (int ts = from; ts <= to; ) {
            int comma = indexOf(b, ts, to, (byte) ',');
            int te = comma < 0 ? to : comma;
            int s0 = ts;
            while (s0 < te && isOws(b[s0])) {
                s0++;
            }
            int e0 = te;
            while (e0 > s0 && isOws(b[e0 - 1])) {
                e0--;
            }
            if (e0 > s0) {
                if (n * 2 + 2 > tokens.length) {
                    tokens = Arrays.copyOf(tokens, tokens.length * 2);
                }
                tokens[n * 2] = s0;
                tokens[n * 2 + 1] = e0 - s0;
                n++;
            }
            ts = te + 1;
        }
        return n;
    }

    /** Whether list element {@code t} of the last {@link #splitList} is {@code lower} in any case. */
    boolean tokenIs(int t, AsciiString lower) {
        return equalsIgnoreCase(b, tokens[t * 2], tokens[t * 2 + 1], lower);
    }

    /** {@link #connectionOptions}' flags. */
    static final int CONNECTION_CLOSE = 1;
    static final int CONNECTION_KEEP_ALIVE = 2;
    static final int CONNECTION_UPGRADE = 4;

    /**
     * Reads a Connection header line: which of close, keep-alive and upgrade it lists (as
     * {@link #CONNECTION_CLOSE} and the other flags), and every option but close and
     * keep-alive is remembered as a header name to drop ({@link #dropNamed}).
     */
    int connectionOptions(int line) {
        int flags = 0;
        for (int t = 0, n = splitList(line); t < n; t++) {
            if (tokenIs(t, CLOSE_TOKEN)) {
                flags |= CONNECTION_CLOSE;
            } else if (tokenIs(t, KEEP_ALIVE_TOKEN)) {
                flags |= CONNECTION_KEEP_ALIVE;
            } else {
                if (tokenIs(t, UPGRADE_NAME)) {
                    flags |= CONNECTION_UPGRADE;
                }
                addNamed(t);
            }
        }
        return flags;
    }

    /** Remembers list element {@code t} of the last {@link #splitList} as a header name Connection listed. */
    private void addNamed(int t) {
        if (namedCount * 2 + 2 > named.length) {
            named = Arrays.copyOf(named, named.length * 2);
        }
        named[namedCount * 2] = tokens[t * 2];
        named[namedCount * 2 + 1] = tokens[t * 2 + 1];
        namedCount++;
    }

    /** Marks the {@link #KEEP} lines whose name a Connection header listed as {@link #DROP}. */
    void dropNamed() {
        for (int k = 0; k < namedCount; k++) {
            int ns = named[k * 2];
            int nl = named[k * 2 + 1];
            for (int li = 1; li < count; li++) {
                if (kind(li) == KEEP && nameLength(li) == nl && regionEqualsIgnoreCase(b, start(li), ns, nl)) {
                    kind(li, DROP);
                }
            }
        }
    }

    /** Header line {@code line}'s Content-Length: the value, -1 if it is not a number, -2 if a list's values differ. */
    long contentLength(int line) {
        return Ascii.contentLength(b, valueStart(line), valueEnd(line));
    }

    // ------------------------------------------------------------------ assembling a message

    /** Starts assembling a message of about {@code size} bytes. */
    void startOut(int size) {
        if (out.length < size) {
            out = new byte[Math.max(size, out.length * 2)];
        }
        outLength = 0;
    }

    void put(byte[] from) {
        put(from, 0, from.length);
    }

    /** Appends {@code from[start, end)}. */
    void put(byte[] from, int start, int end) {
        int len = end - start;
        if (outLength + len > out.length) {
            out = Arrays.copyOf(out, Math.max(outLength + len, out.length * 2));
        }
        System.arraycopy(from, start, out, outLength, len);
        outLength += len;
    }

    void put(byte c) {
        if (outLength == out.length) {
            out = Arrays.copyOf(out, out.length * 2);
        }
        out[outLength++] = c;
    }

    /**
     * The assembled message in a new buffer, copied in once: a dozen small writes to a
     * {@code ByteBuf}, each with its bounds and reference-count checks, cost more than the parse.
     */
    ByteBuf outTo(ByteBufAllocator alloc) {
        return alloc.buffer(outLength).writeBytes(out, 0, outLength);
    }
}
