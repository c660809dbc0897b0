package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

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
 *     {@code keep-alive} to a kept-alive HTTP/1.0 client;</li>
 * <li>forwarded in canonical form: the status line in Sluice's version, HTTP/1.1 (RFC 9110
 *     §6.2), whatever the pod's 1.x; Content-Length lists or repeats of one value as one line
 *     ({@link FramingHeaders}), none on 1xx, 204 and 304; every line of a chunked body ending
 *     in CRLF, chunk extensions dropped ({@link ChunkedBody});</li>
 * <li>the body's length: none after HEAD, 1xx, 204 and 304; chunked when Transfer-Encoding is
 *     chunked; else Content-Length, else until close. A response with both Transfer-Encoding
 *     and Content-Length loses the Content-Length and its connection is not reused (a
 *     smuggling signal);</li>
 * <li>1xx responses are forwarded as they come, except to HTTP/1.0 clients, who must not see
 *     them; a 101 the request asked for turns the connection into a tunnel;</li>
 * <li>a chunked body to an HTTP/1.0 client (which cannot read chunked) is sent de-chunked,
 *     without trailers, and the client connection closes after it;</li>
 * <li>refused, as {@link Sink#malformed}: a status line that is not {@code HTTP/1.x NNN},
 *     header lines with obsolete folding, whitespace before the colon, a name that is not a
 *     token or control characters in a value, Content-Length values that are not digits or
 *     disagree, a Transfer-Encoding other than chunked alone (another coding, chunked twice,
 *     two lines), chunked framing {@link ChunkedBody} refuses (bad sizes or extensions, bare
 *     LF, trailers that are not field lines), heads over {@link #MAX_HEAD} bytes (status line
 *     over {@link #MAX_STATUS_LINE}), and a 101 the request did not ask for.</li>
 * </ul>
 *
 * <h2>Implementation notes</h2>
 * One framer per pod connection, used only on that connection's event loop: no
 * synchronisation. The caller owns the buffer it feeds; the framer retains what it passes on.
 * A head, a chunk-size line or a trailer split across reads is kept in {@code pending} (a copy)
 * and parsed again from its start when more arrives. Output is gathered per read
 * ({@link ClientOutput}), so a head and a small body leave in one write. The sink may start the next exchange
 * on this same connection from inside {@link Sink#responseEnd} (a waiter handed the freed
 * slot on this loop): the framer therefore finishes its own bookkeeping before that call and
 * touches nothing after it.
 */
public final class ResponseFramer {

    /** Netty's default limits, which the decoder this replaced applied. */
    static final int MAX_STATUS_LINE = 4096;
    static final int MAX_HEAD = 4096 + 8192;

    /** Where the framer's results go; called on the connection's event loop. */
    public interface Sink {
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

    private enum State { IDLE, HEAD, LENGTH, CHUNKED, UNTIL_CLOSE, TUNNEL, BROKEN }



    private State state = State.IDLE;
    private boolean headRequest;
    private boolean clientKeepAlive;
    private boolean clientHttp11;
    /** The protocol the request asked to upgrade to, or null. */
    private byte[] upgradeAsked;

    private boolean podReusable;
    private boolean dechunk;
    private boolean dropLengthLine;
    /** No body follows this head (1xx, 204, 304): neither framing header goes to the client. */
    private boolean dropFraming;
    private final FramingHeaders framing = new FramingHeaders();
    private long remaining;
    private final ChunkedBody chunks = new ChunkedBody("chunk-size line over its limit", "trailer section over its limit");
    private ByteBuf pending;
    private final ClientOutput out = new ClientOutput();

    /** This thread's head parser while a head is parsed ({@link HeadLines#borrow}), else null. */
    private HeadLines head;

    /**
     * Expects the response to a request that is being sent: resets the state and says what
     * the client can take ({@code upgrade}: the protocol the request asked to switch to, or null).
     */
    public void expect(boolean headRequest, boolean clientKeepAlive, boolean clientHttp11, String upgrade) {
        this.headRequest = headRequest;
        this.clientKeepAlive = clientKeepAlive;
        this.clientHttp11 = clientHttp11;
        this.upgradeAsked = upgrade == null ? null : upgrade.getBytes(StandardCharsets.ISO_8859_1);
        releasePending();
        state = State.HEAD;
    }

    /** True between {@link #expect} and the response's end (or a tunnel's close). */
    public boolean expecting() {
        return state != State.IDLE && state != State.BROKEN;
    }

    /** Reads what {@code in} holds (the caller keeps ownership of it). */
    public void feed(ByteBuf in, ByteBufAllocator alloc, Sink sink) {
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
    public boolean closed(Sink sink) {
        if (state == State.UNTIL_CLOSE) {
            state = State.IDLE;
            sink.responseEnd(false);
            return true;
        }
        return false;
    }

    /** Frees what the framer holds (the connection is gone). */
    public void dispose() {
        releasePending();
        out.discard();
        state = State.BROKEN;
    }

    // ------------------------------------------------------------------ the loop

    private void run(ByteBuf src, ByteBufAllocator alloc, Sink sink) {
        while (true) {
            switch (state) {
                case HEAD -> {
                    if (!src.isReadable()) {
                        out.flush(sink);
                        return;
                    }
                    head = HeadLines.borrow();
                    try {
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
                    } finally {
                        head.giveBack();
                        head = null;
                    }
                }
                case LENGTH -> {
                    if (counted(src, alloc, sink)) {
                        end(src, sink);
                    }
                    return;
                }
                case CHUNKED -> {
                    int kind = chunks.next(src);
                    if (kind == ChunkedBody.MORE) {
                        stash(src, alloc, sink);
                        return;
                    }
                    if (kind == ChunkedBody.MALFORMED) {
                        malformed(sink, chunks.error());
                        return;
                    }
                    int len = chunks.length();
                    if (kind == ChunkedBody.DATA || !dechunk) {
                        int keep = chunks.keep();
                        out.emit(src, src.readerIndex(), keep, alloc, sink);
                        if (keep < len) {
                            out.crlf(alloc, sink); // a chunk-size line without its extensions
                        }
                    }
                    src.skipBytes(len);
                    if (kind == ChunkedBody.LAST) {
                        end(src, sink);
                        return;
                    }
                }
                case UNTIL_CLOSE, TUNNEL -> {
                    int n = src.readableBytes();
                    out.emit(src, src.readerIndex(), n, alloc, sink);
                    src.skipBytes(n);
                    out.flush(sink);
                    return;
                }
                default -> {
                    return; // IDLE or BROKEN: nothing is expected
                }
            }
        }
    }

    /**
     * Passes on up to {@link #remaining} body bytes of a Content-Length body:
     * true once all have passed, false (output flushed) when more must be read.
     */
    private boolean counted(ByteBuf src, ByteBufAllocator alloc, Sink sink) {
        int n = (int) Math.min(remaining, src.readableBytes());
        out.emit(src, src.readerIndex(), n, alloc, sink);
        src.skipBytes(n);
        remaining -= n;
        if (remaining > 0) {
            out.flush(sink);
            return false;
        }
        return true;
    }

    /** The response is complete: the connection is reusable only if nothing else came with it. */
    private void end(ByteBuf src, Sink sink) {
        out.flush(sink);
        boolean reusable = podReusable && !src.isReadable();
        src.skipBytes(src.readableBytes());
        state = State.IDLE;
        sink.responseEnd(reusable); // may start the next exchange on this connection: touch nothing after
    }

    private void malformed(Sink sink, String why) {
        out.discard();
        state = State.BROKEN;
        sink.malformed(why);
    }

    private void stash(ByteBuf src, ByteBufAllocator alloc, Sink sink) {
        out.flush(sink);
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

    // ------------------------------------------------------------------ the head

    /** Finds the head's end: the index after its empty line, -1 if more bytes are needed, -2 if malformed (reported). */
    private int scanHead(ByteBuf b, Sink sink) {
        int end = head.scan(b, MAX_HEAD, MAX_STATUS_LINE, "response", "status line");
        if (end == -2) {
            malformed(sink, head.error());
        }
        return end;
    }

    /** Parses a complete head ending at {@code end}; false when the loop must stop. */
    private boolean head(ByteBuf in, int end, ByteBufAllocator alloc, Sink sink) {
        int headLen = head.headLength();
        byte[] b = head.bytes();
        int s = head.start(0);
        int e = head.end(0);
        // "HTTP/1.x NNN[ reason]"
        if (e - s < 12 || !Ascii.startsWith(b, s, "HTTP/1.") || !Ascii.isDigit(b[s + 7])
                || b[s + 8] != ' ' || (e - s > 12 && b[s + 12] != ' ')) {
            malformed(sink, "not an HTTP/1.x status line");
            return false;
        }
        boolean http11 = b[s + 7] != '0'; // 1.2 and later read as 1.1 (RFC 9112 §2.3)
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
        if (!Ascii.validText(b, s + 12, e)) {
            malformed(sink, "control character in the reason phrase");
            return false;
        }
        if (!head.checkHeaders()) {
            malformed(sink, head.error());
            return false;
        }

        // Pass 1: name each line, find the framing headers, collect Connection's tokens.
        FramingHeaders f = framing;
        f.start();
        boolean close = false;
        boolean keepAlive = false;
        int upgradeLine = -1;
        for (int li = 1, n = head.count(); li < n; li++) {
            int kind = HeadLines.KEEP;
            if (head.nameIs(li, HeadLines.CONTENT_LENGTH)) {
                int read = f.contentLength(head, li);
                if (read == FramingHeaders.REFUSED) {
                    malformed(sink, f.error);
                    return false;
                }
                kind = read == FramingHeaders.FIRST ? ClientResponseHead.LENGTH_LINE : HeadLines.DROP;
            } else if (head.nameIs(li, HeadLines.TRANSFER_ENCODING)) {
                f.transferEncoding(head, li);
                kind = ClientResponseHead.CODING_LINE;
            } else if (head.nameIs(li, HeadLines.CONNECTION)) {
                kind = HeadLines.DROP;
                int options = head.connectionOptions(li);
                close |= (options & HeadLines.CONNECTION_CLOSE) != 0;
                keepAlive |= (options & HeadLines.CONNECTION_KEEP_ALIVE) != 0;
            } else if (head.nameIs(li, HeadLines.UPGRADE_NAME)) {
                kind = ClientResponseHead.UPGRADE_LINE;
                upgradeLine = li;
            } else if (head.isHopByHop(li)) {
                kind = HeadLines.DROP;
            }
            head.kind(li, kind);
        }
        head.dropNamed();

        if (f.codingLines > 1 || f.chunkedCodings > 1) {
            // Read otherwise by some clients: a smuggling signal, as on the request side.
            malformed(sink, f.codingLines > 1 ? "more than one Transfer-Encoding header"
                    : "chunked applied more than once (Transfer-Encoding)");
            return false;
        }
        if (f.codingLines > 0 && !f.onlyChunked()) {
            // Another coding would make the body end at close, with its Transfer-Encoding
            // forwarded: a client's parser may not agree, so nothing but chunked is forwarded.
            malformed(sink, "a Transfer-Encoding other than chunked");
            return false;
        }
        long length = f.length;
        boolean coding = f.codingLines > 0;
        boolean informational = status < 200;
        dechunk = false;
        // No body follows, so no framing header goes with it (RFC 9110 §8.6, RFC 9112 §6.1).
        dropFraming = informational || status == 204 || status == 304;
        dropLengthLine = dropFraming;
        if (status == 101) {
            if (upgradeAsked == null) {
                malformed(sink, "101 Switching Protocols to a request that asked for no upgrade");
                return false;
            }
            writeHead(headLen, alloc, ClientResponseHead.End.UPGRADE, upgradeLine, 0);
            in.readerIndex(end);
            out.flush(sink);
            state = State.TUNNEL;
            sink.switched();
            return true;
        }
        if (informational) {
            if (clientHttp11) { // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client
                writeHead(headLen, alloc, ClientResponseHead.End.AS_IS, -1, 0);
            }
            in.readerIndex(end);
            return true; // the final response follows
        }
        podReusable = http11 ? !close : keepAlive && !close;
        if (coding && length >= 0) {
            // Both framings (RFC 9112 §6.1), even where no body follows (HEAD): the length
            // goes, and so does the connection.
            dropLengthLine = true;
            podReusable = false;
        }
        State next;
        if (headRequest || status == 204 || status == 304) {
            next = State.IDLE;
        } else if (coding) {
            next = State.CHUNKED;
            chunks.start();
            dechunk = !clientHttp11;
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
        int inline = next == State.LENGTH ? (int) Math.min(Math.min(remaining, ClientOutput.COPY_MAX), in.writerIndex() - end) : 0;
        // The status line says HTTP/1.1 (Sluice's version, RFC 9110 §6.2): an HTTP/1.0 client is
        // told it is kept alive, any other only when it is not.
        writeHead(headLen, alloc, clientMustClose ? ClientResponseHead.End.CLOSE : clientHttp11 ? ClientResponseHead.End.AS_IS : ClientResponseHead.End.KEEP_ALIVE,
                -1, inline);
        in.readerIndex(end);
        if (next == State.IDLE) {
            end(in, sink);
            return false;
        }
        state = next;
        return true;
    }

    /** Writes the rewritten head ({@link ClientResponseHead}) into {@code out}, with {@code room} for body bytes after it. */
    private void writeHead(int headLen, ByteBufAllocator alloc, ClientResponseHead.End how, int upgradeLine, int room) {
        ClientResponseHead.write(out.buffer(alloc, headLen + 64 + room), head, framing, how, upgradeLine, upgradeAsked, dropLengthLine, dechunk || dropFraming);
    }
}
