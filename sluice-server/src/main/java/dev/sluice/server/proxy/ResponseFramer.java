package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the bytes a pod sends on one connection into the bytes its client gets, parsing only
 * what framing and the hop-by-hop rewrite need: the status line, the headers' names,
 * {@code Content-Length}, {@code Transfer-Encoding}, {@code Connection}, and chunk sizes.
 * Header lines and body bytes are copied (or, for large body parts, sliced) through; nothing
 * is decoded into a header map and encoded again. This replaced Netty's HTTP client decoder and
 * the server encoder on the response path: about 4× less CPU and 5–13× fewer bytes per
 * response in isolation ({@code ResponsePathBenchmark}; docs/benchmarks.md, "Fourth session").
 *
 * <p>What it does to a response (RFC 9110 §7.6.1, RFC 9112 §6):
 * <ul>
 * <li>hop-by-hop headers ({@link ForwardingHeaders#HOP_BY_HOP} and those the {@code Connection}
 *     header names) are removed; the client's own {@code Connection} header is added:
 *     {@code close} when the client is not kept alive or the body ends only at close,
 *     {@code keep-alive} on an HTTP/1.0 response to a kept-alive client;</li>
 * <li>the body's length: none after HEAD, 1xx, 204 and 304; chunked when the last transfer
 *     coding is chunked; until close when another coding is last; else Content-Length, else
 *     until close. A response with both Transfer-Encoding and Content-Length loses the
 *     Content-Length and its connection is not reused (a smuggling signal);</li>
 * <li>1xx responses are forwarded as they come, except to HTTP/1.0 clients, who must not see
 *     them; a 101 the request asked for turns the connection into a tunnel;</li>
 * <li>a chunked body to an HTTP/1.0 client (which cannot read chunked) is sent de-chunked,
 *     without trailers, and the client connection closes after it;</li>
 * <li>refused, as {@link Sink#malformed}: a status line that is not {@code HTTP/1.x NNN},
 *     header lines with obsolete folding, whitespace before the colon, a name that is not a
 *     token or control characters in a value, Content-Length values that are not digits or
 *     disagree, a bad chunk size or chunk end, heads over {@link #MAX_HEAD} bytes (status line
 *     over {@link #MAX_STATUS_LINE}), and a 101 the request did not ask for.</li>
 * </ul>
 *
 * <h2>Implementation notes</h2>
 * One framer per pod connection, used only on that connection's event loop: no
 * synchronisation. The caller owns the buffer it feeds; the framer retains what it passes on.
 * A head, a chunk-size line or a trailer split across reads is kept in {@code pending} (a copy)
 * and parsed again from its start when more arrives. Output is gathered in one buffer per read
 * ({@code out}), so a head and a small body leave in one write; body parts over
 * {@link #COPY_MAX} go out as slices of the read buffer. The sink may start the next exchange
 * on this same connection from inside {@link Sink#responseEnd} (a waiter handed the freed
 * slot on this loop): the framer therefore finishes its own bookkeeping before that call and
 * touches nothing after it.
 */
final class ResponseFramer {

    /** Netty's default limits, which the decoder this replaced applied. */
    static final int MAX_STATUS_LINE = 4096;
    static final int MAX_HEAD = 4096 + 8192;
    static final int MAX_CHUNK_LINE = 4096;
    static final int MAX_TRAILERS = 8192;
    /** Body parts up to this size are copied into the outgoing buffer; larger ones are sliced. */
    static final int COPY_MAX = 4096;
    private static final int OUT_MAX = 16 * 1024;

    /** Where the framer's results go; called on the connection's event loop. */
    interface Sink {
        /** A final response (status ≥ 200) starts; its bytes follow through {@link #clientBytes}. */
        void responseHead(int status, boolean clientMustClose);

        /** Bytes for the client, in order; the sink owns the buffer. */
        void clientBytes(ByteBuf bytes);

        /** The response ended; {@code podReusable}: the connection may carry another request. */
        void responseEnd(boolean podReusable);

        /** The pod accepted the upgrade (its 101 went out through {@link #clientBytes}); every byte from now on is the tunnel's. */
        void switched();

        /** The pod's bytes are not a response Sluice can forward; nothing more is read. */
        void malformed(String why);
    }

    private enum State { IDLE, HEAD, LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, UNTIL_CLOSE, TUNNEL, BROKEN }

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = "connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UPGRADE = "connection: upgrade\r\nupgrade: ".getBytes(StandardCharsets.US_ASCII);
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
    private static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
    private static final AsciiString CONNECTION = AsciiString.cached("connection");
    private static final AsciiString UPGRADE_NAME = AsciiString.cached("upgrade");
    private static final AsciiString CHUNKED = AsciiString.cached("chunked");
    private static final AsciiString CLOSE_TOKEN = AsciiString.cached("close");
    private static final AsciiString KEEP_ALIVE_TOKEN = AsciiString.cached("keep-alive");
    private static final List<AsciiString> HOP_BY_HOP = ForwardingHeaders.HOP_BY_HOP;

    // Line kinds (pass 1), by which pass 2 keeps or drops each header line.
    private static final int KEEP = 0;
    private static final int DROP = 1;
    private static final int LENGTH_LINE = 2;
    private static final int CODING_LINE = 3;
    private static final int UPGRADE_LINE = 4;

    private State state = State.IDLE;
    private boolean headRequest;
    private boolean clientKeepAlive;
    private boolean clientHttp11;
    /** The protocol the request asked to upgrade to, or null. */
    private byte[] upgradeAsked;

    private boolean podReusable;
    private boolean dechunk;
    private boolean dropLengthLine;
    private long remaining;
    private int trailerBytes;
    private ByteBuf pending;
    private ByteBuf out;

    /** Per header line: start, colon, end (exclusive, before CR LF), kind. Reused across responses. */
    private int[] lines = new int[4 * 16];
    private int lineCount;
    /** Header names listed in Connection: start and length pairs. */
    private int[] named = new int[8];
    private int namedCount;
    /** One header's list elements (start, length pairs), see {@link #splitList}. */
    private int[] tokens = new int[8];
    /** The head being parsed, copied out of the read buffer. */
    private byte[] scratch = new byte[512];

    /**
     * Expects the response to a request that is being sent: resets the state and says what
     * the client can take ({@code upgrade}: the protocol the request asked to switch to, or null).
     */
    void expect(boolean headRequest, boolean clientKeepAlive, boolean clientHttp11, String upgrade) {
        this.headRequest = headRequest;
        this.clientKeepAlive = clientKeepAlive;
        this.clientHttp11 = clientHttp11;
        this.upgradeAsked = upgrade == null ? null : upgrade.getBytes(StandardCharsets.ISO_8859_1);
        releasePending();
        state = State.HEAD;
    }

    /** True between {@link #expect} and the response's end (or a tunnel's close). */
    boolean expecting() {
        return state != State.IDLE && state != State.BROKEN;
    }

    /** Reads what {@code in} holds (the caller keeps ownership of it). */
    void feed(ByteBuf in, ByteBufAllocator alloc, Sink sink) {
        if (!expecting()) {
            return;
        }
        ByteBuf src = in;
        boolean own = false;
        if (pending != null) {
            pending.writeBytes(in);
            src = pending;
            pending = null;
            own = true;
        }
        try {
            run(src, alloc, sink);
        } finally {
            if (own) {
                src.release();
            }
        }
    }

    /**
     * The connection closed. Returns true if that ended the response (a body delimited by the
     * close), after telling the sink; false if the response was cut short or not yet begun.
     */
    boolean closed(Sink sink) {
        if (state == State.UNTIL_CLOSE) {
            state = State.IDLE;
            sink.responseEnd(false);
            return true;
        }
        return false;
    }

    /** Frees what the framer holds (the connection is gone). */
    void dispose() {
        releasePending();
        if (out != null) {
            out.release();
            out = null;
        }
        state = State.BROKEN;
    }

    // ------------------------------------------------------------------ the loop

    private void run(ByteBuf src, ByteBufAllocator alloc, Sink sink) {
        while (true) {
            switch (state) {
                case HEAD -> {
                    if (!src.isReadable()) {
                        flushOut(sink);
                        return;
                    }
                    int end = scanHead(src, sink);
                    if (end == -2) {
                        return; // malformed, reported
                    }
                    if (end < 0) {
                        stash(src, alloc, sink);
                        return;
                    }
                    if (!head(src, end, alloc, sink)) {
                        return;
                    }
                }
                case LENGTH -> {
                    if (counted(src, alloc, sink)) {
                        end(src, sink);
                    }
                    return;
                }
                case CHUNK_SIZE -> {
                    int lf = findLine(src, MAX_CHUNK_LINE, "chunk-size line", sink);
                    if (lf == -2) {
                        return;
                    }
                    if (lf < 0) {
                        stash(src, alloc, sink);
                        return;
                    }
                    long size = chunkSize(src, src.readerIndex(), lf);
                    if (size < 0) {
                        malformed(sink, "invalid chunk size");
                        return;
                    }
                    if (!dechunk) {
                        emit(src, src.readerIndex(), lf + 1 - src.readerIndex(), alloc, sink);
                    }
                    src.readerIndex(lf + 1);
                    if (size == 0) {
                        trailerBytes = 0;
                        state = State.TRAILERS;
                    } else {
                        remaining = size;
                        state = State.CHUNK_DATA;
                    }
                }
                case CHUNK_DATA -> {
                    if (!counted(src, alloc, sink)) {
                        return;
                    }
                    state = State.CHUNK_END;
                }
                case CHUNK_END -> {
                    int r = src.readerIndex();
                    int avail = src.readableBytes();
                    int len;
                    if (avail >= 1 && src.getByte(r) == '\n') {
                        len = 1;
                    } else if (avail >= 2 && src.getByte(r) == '\r' && src.getByte(r + 1) == '\n') {
                        len = 2;
                    } else if (avail < 2 && (avail == 0 || src.getByte(r) == '\r')) {
                        stash(src, alloc, sink);
                        return;
                    } else {
                        malformed(sink, "chunk data not followed by CRLF");
                        return;
                    }
                    if (!dechunk) {
                        emit(src, r, len, alloc, sink);
                    }
                    src.skipBytes(len);
                    state = State.CHUNK_SIZE;
                }
                case TRAILERS -> {
                    int lf = findLine(src, MAX_TRAILERS - trailerBytes, "trailer section", sink);
                    if (lf == -2) {
                        return;
                    }
                    if (lf < 0) {
                        stash(src, alloc, sink);
                        return;
                    }
                    int r = src.readerIndex();
                    int lineLen = lf + 1 - r;
                    boolean empty = lineLen == 1 || lineLen == 2 && src.getByte(r) == '\r';
                    if (!dechunk) {
                        emit(src, r, lineLen, alloc, sink);
                    }
                    src.readerIndex(lf + 1);
                    trailerBytes += lineLen;
                    if (empty) {
                        end(src, sink);
                        return;
                    }
                }
                case UNTIL_CLOSE, TUNNEL -> {
                    int n = src.readableBytes();
                    emit(src, src.readerIndex(), n, alloc, sink);
                    src.skipBytes(n);
                    flushOut(sink);
                    return;
                }
                default -> {
                    return; // IDLE or BROKEN: nothing is expected
                }
            }
        }
    }

    /**
     * Passes on up to {@link #remaining} body bytes (a Content-Length body or one chunk's data):
     * true once all have passed, false (output flushed) when more must be read.
     */
    private boolean counted(ByteBuf src, ByteBufAllocator alloc, Sink sink) {
        int n = (int) Math.min(remaining, src.readableBytes());
        emit(src, src.readerIndex(), n, alloc, sink);
        src.skipBytes(n);
        remaining -= n;
        if (remaining > 0) {
            flushOut(sink);
            return false;
        }
        return true;
    }

    /** The response is complete: the connection is reusable only if nothing else came with it. */
    private void end(ByteBuf src, Sink sink) {
        flushOut(sink);
        boolean reusable = podReusable && !src.isReadable();
        src.skipBytes(src.readableBytes());
        state = State.IDLE;
        sink.responseEnd(reusable); // may start the next exchange on this connection: touch nothing after
    }

    private void malformed(Sink sink, String why) {
        if (out != null) {
            out.release();
            out = null;
        }
        state = State.BROKEN;
        sink.malformed(why);
    }

    private void stash(ByteBuf src, ByteBufAllocator alloc, Sink sink) {
        flushOut(sink);
        int n = src.readableBytes();
        if (n > 0) {
            pending = alloc.buffer(Math.max(256, n * 2));
            pending.writeBytes(src);
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private void emit(ByteBuf src, int from, int len, ByteBufAllocator alloc, Sink sink) {
        if (len == 0) {
            return;
        }
        ByteBuf o = out;
        if (o != null && o.readableBytes() + len <= OUT_MAX && (len <= COPY_MAX || o.writableBytes() >= len)) {
            o.writeBytes(src, from, len);
        } else if (len <= COPY_MAX) {
            flushOut(sink);
            out = alloc.buffer(Math.max(len, 256));
            out.writeBytes(src, from, len);
        } else {
            flushOut(sink);
            sink.clientBytes(src.retainedSlice(from, len));
        }
    }

    private void flushOut(Sink sink) {
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

    // ------------------------------------------------------------------ the head

    /**
     * Finds the head's end and records its lines. Returns the index after the empty line that
     * ends it, -1 if more bytes are needed, -2 if it was reported malformed.
     */
    private int scanHead(ByteBuf b, Sink sink) {
        int w = b.writerIndex();
        // Tolerate empty lines before the status line (robustness, as Netty's decoder did).
        int start = b.readerIndex();
        while (start < w && (b.getByte(start) == '\r' || b.getByte(start) == '\n')) {
            start++;
        }
        b.readerIndex(start);
        lineCount = 0;
        int limit = Math.min(w, start + MAX_HEAD);
        int pos = start;
        while (true) {
            int lf = pos < limit ? b.indexOf(pos, limit, (byte) '\n') : -1;
            if (lf < 0) {
                if (w - start >= MAX_HEAD) {
                    malformed(sink, "response head over " + MAX_HEAD + " bytes");
                    return -2;
                }
                if (lineCount == 0 && w - start > MAX_STATUS_LINE) {
                    malformed(sink, "status line over " + MAX_STATUS_LINE + " bytes");
                    return -2;
                }
                return -1;
            }
            int end = lf > pos && b.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (end == pos) {
                return lf + 1;
            }
            if (lineCount == 0 && end - pos > MAX_STATUS_LINE) {
                malformed(sink, "status line over " + MAX_STATUS_LINE + " bytes");
                return -2;
            }
            addLine(pos, end);
            pos = lf + 1;
        }
    }

    private void addLine(int start, int end) {
        int i = lineCount * 4;
        if (i + 4 > lines.length) {
            lines = Arrays.copyOf(lines, lines.length * 2);
        }
        lines[i] = start;
        lines[i + 1] = -1;
        lines[i + 2] = end;
        lines[i + 3] = KEEP;
        lineCount++;
    }

    /** Parses a complete head ending at {@code end}; false when the loop must stop. */
    private boolean head(ByteBuf in, int end, ByteBufAllocator alloc, Sink sink) {
        // Parse a copy: per-byte access to a ByteBuf checks bounds and the reference count on
        // every call (most of the framer's time before this copy); one getBytes does not.
        int base = in.readerIndex();
        int headLen = end - base;
        if (scratch.length < headLen) {
            scratch = new byte[Math.max(headLen, scratch.length * 2)];
        }
        byte[] b = scratch;
        in.getBytes(base, b, 0, headLen);
        for (int li = 0; li < lineCount; li++) {
            lines[li * 4] -= base;
            lines[li * 4 + 2] -= base;
        }
        int s = lines[0];
        int e = lines[2];
        // "HTTP/1.x NNN[ reason]"
        if (e - s < 12 || !startsWith(b, s, "HTTP/1.") || (b[s + 7] != '0' && b[s + 7] != '1')
                || b[s + 8] != ' ' || (e - s > 12 && b[s + 12] != ' ')) {
            malformed(sink, "not an HTTP/1.x status line");
            return false;
        }
        boolean http11 = b[s + 7] == '1';
        int status = 0;
        for (int i = s + 9; i < s + 12; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                malformed(sink, "the status code is not three digits");
                return false;
            }
            status = status * 10 + d;
        }
        if (status < 100 || status > 599) {
            malformed(sink, "status code " + status + " is outside 100-599");
            return false;
        }
        if (!validText(b, s + 12, e)) {
            malformed(sink, "control character in the reason phrase");
            return false;
        }

        // Pass 1: name each line, find the framing headers, collect Connection's tokens.
        long length = -1;
        boolean coding = false;
        boolean chunkedLast = false;
        boolean onlyChunked = true;
        boolean close = false;
        boolean keepAlive = false;
        int upgradeLine = -1;
        namedCount = 0;
        for (int li = 1; li < lineCount; li++) {
            int ls = lines[li * 4];
            int le = lines[li * 4 + 2];
            byte first = b[ls];
            if (first == ' ' || first == '\t') {
                malformed(sink, "obsolete line folding in the headers");
                return false;
            }
            int colon = indexOf(b, ls, le, (byte) ':');
            if (colon <= ls) {
                malformed(sink, colon < 0 ? "a header line without a colon" : "a header with an empty name");
                return false;
            }
            for (int i = ls; i < colon; i++) {
                if (!isTokenChar(b[i])) {
                    malformed(sink, "header name with a character that is not allowed (whitespace before the colon?)");
                    return false;
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
                malformed(sink, "control character in a header value");
                return false;
            }
            lines[li * 4 + 1] = colon;
            int nameLen = colon - ls;
            int kind = KEEP;
            if (equalsIgnoreCase(b, ls, nameLen, CONTENT_LENGTH)) {
                long v = contentLength(b, vs, ve);
                if (v == -1 || v == -2 || length >= 0 && v != length) {
                    malformed(sink, v == -1 ? "Content-Length is not a number" : "Content-Length values disagree");
                    return false;
                }
                length = v;
                kind = LENGTH_LINE;
            } else if (equalsIgnoreCase(b, ls, nameLen, TRANSFER_ENCODING)) {
                coding = true;
                kind = CODING_LINE;
                // The last coding of the last Transfer-Encoding line decides the framing.
                for (int t = 0, n = splitList(b, vs, ve); t < n; t++) {
                    chunkedLast = equalsIgnoreCase(b, tokens[t * 2], tokens[t * 2 + 1], CHUNKED);
                    onlyChunked &= chunkedLast;
                }
            } else if (equalsIgnoreCase(b, ls, nameLen, CONNECTION)) {
                kind = DROP;
                for (int t = 0, n = splitList(b, vs, ve); t < n; t++) {
                    int ts = tokens[t * 2];
                    int tl = tokens[t * 2 + 1];
                    if (equalsIgnoreCase(b, ts, tl, CLOSE_TOKEN)) {
                        close = true;
                    } else if (equalsIgnoreCase(b, ts, tl, KEEP_ALIVE_TOKEN)) {
                        keepAlive = true;
                    } else {
                        addNamed(ts, tl);
                    }
                }
            } else if (equalsIgnoreCase(b, ls, nameLen, UPGRADE_NAME)) {
                kind = UPGRADE_LINE;
                upgradeLine = li;
            } else {
                for (int h = 0, n = HOP_BY_HOP.size(); h < n; h++) {
                    if (equalsIgnoreCase(b, ls, nameLen, HOP_BY_HOP.get(h))) {
                        kind = DROP;
                        break;
                    }
                }
            }
            lines[li * 4 + 3] = kind;
        }
        for (int k = 0; k < namedCount; k++) {
            int ns = named[k * 2];
            int nl = named[k * 2 + 1];
            for (int li = 1; li < lineCount; li++) {
                if (lines[li * 4 + 3] == KEEP && lines[li * 4 + 1] - lines[li * 4] == nl
                        && regionEqualsIgnoreCase(b, lines[li * 4], ns, nl)) {
                    lines[li * 4 + 3] = DROP;
                }
            }
        }

        boolean informational = status < 200;
        dechunk = false;
        dropLengthLine = false;
        if (status == 101) {
            if (upgradeAsked == null) {
                malformed(sink, "101 Switching Protocols to a request that asked for no upgrade");
                return false;
            }
            writeHead(b, headLen, alloc, HeadEnd.UPGRADE, upgradeLine, 0);
            in.readerIndex(end);
            flushOut(sink);
            state = State.TUNNEL;
            sink.switched();
            return true;
        }
        if (informational) {
            if (clientHttp11) { // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client
                writeHead(b, headLen, alloc, HeadEnd.AS_IS, -1, 0);
            }
            in.readerIndex(end);
            return true; // the final response follows
        }
        podReusable = http11 ? !close : keepAlive && !close;
        State next;
        if (headRequest || status == 204 || status == 304) {
            next = State.IDLE;
        } else if (coding) {
            next = chunkedLast ? State.CHUNK_SIZE : State.UNTIL_CLOSE;
            if (length >= 0) {
                // Both framings (RFC 9112 §6.1): the length goes, and so does the connection.
                dropLengthLine = true;
                podReusable = false;
            }
            dechunk = chunkedLast && onlyChunked && !clientHttp11;
        } else if (length >= 0) {
            next = length == 0 ? State.IDLE : State.LENGTH;
            remaining = length;
        } else {
            next = State.UNTIL_CLOSE;
        }
        if (next == State.UNTIL_CLOSE) {
            podReusable = false;
        }
        boolean clientMustClose = !clientKeepAlive || next == State.UNTIL_CLOSE || dechunk;
        sink.responseHead(status, clientMustClose);
        if (!expecting()) {
            return false; // the sink gave up on the exchange meanwhile
        }
        int inline = next == State.LENGTH ? (int) Math.min(Math.min(remaining, COPY_MAX), in.writerIndex() - end) : 0;
        writeHead(b, headLen, alloc, clientMustClose ? HeadEnd.CLOSE : http11 ? HeadEnd.AS_IS : HeadEnd.KEEP_ALIVE, -1,
                inline);
        in.readerIndex(end);
        if (next == State.IDLE) {
            end(in, sink);
            return false;
        }
        state = next;
        return true;
    }

    /** What the rewritten head says of the client's connection. */
    private enum HeadEnd { AS_IS, CLOSE, KEEP_ALIVE, UPGRADE }

    /**
     * Writes the rewritten head into {@code out}: the status line, the kept headers, the
     * client's Connection header, the empty line. For a 101, Connection and Upgrade as the
     * tunnel needs them (the pod's Upgrade value, else the one asked for). {@code room}: body
     * bytes that will follow in the same buffer.
     */
    private void writeHead(byte[] b, int headLen, ByteBufAllocator alloc, HeadEnd how, int upgradeLine, int room) {
        ByteBuf o = out;
        if (o == null) {
            o = alloc.buffer(headLen + 64 + room);
            out = o;
        }
        o.writeBytes(b, lines[0], lines[2] - lines[0]).writeBytes(CRLF);
        for (int li = 1; li < lineCount; li++) {
            int k = lines[li * 4 + 3];
            if (k == DROP || k == UPGRADE_LINE || k == LENGTH_LINE && dropLengthLine || k == CODING_LINE && dechunk) {
                continue;
            }
            int ls = lines[li * 4];
            o.writeBytes(b, ls, lines[li * 4 + 2] - ls).writeBytes(CRLF);
        }
        switch (how) {
            case UPGRADE -> {
                o.writeBytes(UPGRADE);
                if (upgradeLine >= 0) {
                    int vs = lines[upgradeLine * 4 + 1] + 1;
                    int ve = lines[upgradeLine * 4 + 2];
                    while (vs < ve && isOws(b[vs])) {
                        vs++;
                    }
                    while (ve > vs && isOws(b[ve - 1])) {
                        ve--;
                    }
                    o.writeBytes(b, vs, ve - vs);
                } else {
                    o.writeBytes(upgradeAsked);
                }
                o.writeBytes(CRLF);
            }
            case CLOSE -> o.writeBytes(CLOSE);
            case KEEP_ALIVE -> o.writeBytes(KEEP_ALIVE);
            default -> {
            }
        }
        o.writeBytes(CRLF);
    }

    /**
     * Splits a comma-separated list in b[from, to) into {@link #tokens} (start, length pairs,
     * optional whitespace trimmed, empty elements skipped); returns how many.
     */
    private int splitList(byte[] b, int from, int to) {
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

    private void addNamed(int start, int len) {
        if (namedCount * 2 + 2 > named.length) {
            named = Arrays.copyOf(named, named.length * 2);
        }
        named[namedCount * 2] = start;
        named[namedCount * 2 + 1] = len;
        namedCount++;
    }

    // ------------------------------------------------------------------ chunks

    /** The LF ending the line at the reader index, -1 if not here yet, -2 if over {@code max} (reported). */
    private int findLine(ByteBuf b, int max, String what, Sink sink) {
        int r = b.readerIndex();
        int w = b.writerIndex();
        int lf = b.indexOf(r, Math.min(w, r + Math.max(max, 0)), (byte) '\n');
        if (lf < 0 && w - r >= max) {
            malformed(sink, what + " over its limit");
            return -2;
        }
        return lf;
    }

    /** chunk-size [ chunk-ext ] CRLF: the size, or -1 if it is not hexadecimal or too large. */
    private static long chunkSize(ByteBuf b, int start, int lf) {
        long size = 0;
        int digits = 0;
        int i = start;
        for (; i < lf; i++) {
            int c = b.getByte(i);
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) {
                break;
            }
            if (++digits > 15) {
                return -1;
            }
            size = size * 16 + d;
        }
        if (digits == 0) {
            return -1;
        }
        // What follows the digits: optional whitespace, then an extension, or the line's end.
        while (i < lf && isOws(b.getByte(i))) {
            i++;
        }
        if (i < lf && b.getByte(i) != ';' && !(b.getByte(i) == '\r' && i == lf - 1)) {
            return -1;
        }
        for (; i < lf; i++) {
            byte c = b.getByte(i);
            if (c == '\r' && i != lf - 1 || c == 0) {
                return -1;
            }
        }
        return size;
    }

    // ------------------------------------------------------------------ bytes

    /** "42", or a list of identical values "42, 42" (RFC 9110 §8.6); -1 not a number, -2 values differ. */
    private static long contentLength(byte[] b, int vs, int ve) {
        long value = -1;
        long cur = -1;
        int digits = 0;
        for (int i = vs; i <= ve; i++) {
            int c = i == ve ? ',' : b[i];
            if (c >= '0' && c <= '9') {
                if (++digits > 18) {
                    return -1;
                }
                cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
            } else if (c == ',') {
                if (cur < 0) {
                    return -1;
                }
                if (value >= 0 && value != cur) {
                    return -2;
                }
                value = cur;
                cur = -1;
                digits = 0;
            } else if (c != ' ' && c != '\t' || cur >= 0 && i + 1 < ve && isDigit(b[i + 1])) {
                return -1;
            }
        }
        return value;
    }

    private static int indexOf(byte[] b, int from, int to, byte value) {
        for (int i = from; i < to; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isOws(byte c) {
        return c == ' ' || c == '\t';
    }

    /** field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text. */
    private static boolean validText(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static boolean isTokenChar(byte c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return switch (c) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }

    private static boolean startsWith(byte[] b, int at, String s) {
        for (int i = 0; i < s.length(); i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether b[start, start + len) is {@code lower} in any case ({@code lower} is lower-case ASCII). */
    private static boolean equalsIgnoreCase(byte[] b, int start, int len, AsciiString lower) {
        if (len != lower.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != lower.byteAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean regionEqualsIgnoreCase(byte[] b, int a, int c, int len) {
        for (int i = 0; i < len; i++) {
            int x = b[a + i];
            int y = b[c + i];
            if (x >= 'A' && x <= 'Z') {
                x += 32;
            }
            if (y >= 'A' && y <= 'Z') {
                y += 32;
            }
            if (x != y) {
                return false;
            }
        }
        return true;
    }
}
