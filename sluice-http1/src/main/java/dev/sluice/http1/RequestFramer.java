package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AsciiString;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Turns the bytes a client sends into requests for the exchange: one {@link RequestHead} per
 * request, its head already rewritten for the pod, then its body as {@link RequestBody} parts
 * (a chunked body keeps its chunks, in canonical form). It parses only what routing,
 * framing and the hop-by-hop rewrite need: the request line, the headers' names,
 * {@code Host}, {@code Content-Length}, {@code Transfer-Encoding}, {@code Connection},
 * {@code Upgrade}, the forwarding headers, the routing headers and chunk sizes. Nothing is
 * decoded into a header map and encoded again: this replaced Netty's request decoder on the
 * client side and its request encoder on the pod side ({@code RequestPathBenchmark}).
 *
 * <p>What it does to a request (RFC 9110 §7.6.1, RFC 9112):
 * <ul>
 * <li>hop-by-hop headers ({@link ForwardingHeaders#HOP_BY_HOP} and those the {@code Connection}
 *     header names, except the framing headers and {@code Host}) are removed;
 *     {@code X-Forwarded-For} and {@code Forwarded} get the client appended, every earlier
 *     value kept; an HTTP/1.0 request gets {@code Connection: keep-alive} (the pod connection
 *     is pooled) and an upgrade {@code Connection: upgrade} with its {@code Upgrade};</li>
 * <li>forwarded in canonical form, so that a pod cannot frame it otherwise than Sluice did:
 *     HTTP/1.2 and later as HTTP/1.1 (RFC 9112 §2.3), Content-Length lists or repeats of one
 *     value as one line ({@link FramingHeaders}), every line of a chunked body ending in CRLF
 *     and chunk extensions dropped ({@link ChunkedBody});</li>
 * <li>refused, with the status a client can act on, and the connection closed after the
 *     answer: a request line that is not {@code method SP target SP HTTP/d.d} (400; another
 *     major version than 1: 505), over {@link #MAX_REQUEST_LINE} bytes (414), a head over {@link #MAX_HEAD}
 *     bytes (431), header lines {@link HeadLines#checkHeaders} refuses, more than one
 *     {@code Host}, an HTTP/1.1 request without one, Content-Length values that are not
 *     digits or disagree, both Content-Length and Transfer-Encoding, Transfer-Encoding in
 *     HTTP/1.0, on two lines or with chunked twice (all 400; the framing ones are how requests
 *     are smuggled past a proxy), and a Transfer-Encoding other than chunked alone (501);</li>
 * <li>a chunked body whose framing breaks or is not canonical ({@link ChunkedBody}: a bad chunk
 *     size or extension, a bare LF, a trailer that is not a field line, a chunk-size line over {@link ChunkedBody#MAX_CHUNK_LINE} or trailers over {@link ChunkedBody#MAX_TRAILERS}
 *     bytes) ends in {@link RequestBody#malformed}, and nothing more is read.</li>
 * </ul>
 *
 * <h2>Implementation notes</h2>
 * One framer per client connection, fed by that connection's event loop only (sluice-server's
 * {@code RequestDecoder} adapts it to a Netty pipeline): no synchronisation. It owns each read
 * buffer it is given and passes on retained slices of it (and, for a chunk-size line that
 * loses its extensions, a new buffer); a head, a chunk-size line or a trailer split across reads is kept in
 * {@code pending} (a copy) and parsed again from its start when more arrives, on the event
 * loop's shared {@link HeadLines}, borrowed for each parse. The routing
 * values become strings only when they differ from the connection's previous request's (a
 * client sends the same ones on every request). Once the connection is a tunnel
 * ({@link Sink#tunnelling}), it hands the rest on as plain bytes, and {@link #detach} hands
 * over what it kept.
 */
public final class RequestFramer {

    /** Where the framer's messages go, in order; called from {@link #feed} on the connection's thread. */
    public interface Sink {
        /** A request's head (a refused one ends the connection's requests); the sink owns it. */
        void head(RequestHead head);

        /** Part of the current request's body; the sink owns it. */
        void body(RequestBody body);

        /**
         * Whether the connection stopped being HTTP while the last message was handled (an
         * upgrade became a tunnel): the framer then hands every further byte on through
         * {@link #tunnelBytes}, as it came.
         */
        boolean tunnelling();

        /** A tunnel's bytes; the sink owns the buffer. */
        void tunnelBytes(ByteBuf bytes);
    }


    /** Netty's default limits, which the decoder this replaced applied. */
    static final int MAX_REQUEST_LINE = 4096;
    static final int MAX_HEAD = 4096 + 8192;

    private enum State { HEAD, LENGTH, CHUNKED, BROKEN }

    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");

    /** The routing headers, as messages spell them; matched case-insensitively. */
    public static final String SLUICE_REVISION_HEADER = "Sluice-Revision";
    public static final String KNATIVE_NAMESPACE_HEADER = "Knative-Serving-Namespace";
    public static final String KNATIVE_REVISION_HEADER = "Knative-Serving-Revision";
    /** Marks a request one Sluice replica forwarded to another (the sender's id is its value). */
    public static final String SLUICE_FORWARDED_HEADER = "Sluice-Forwarded";
    private static final AsciiString SLUICE_REVISION = lower(SLUICE_REVISION_HEADER);
    private static final AsciiString KNATIVE_NAMESPACE = lower(KNATIVE_NAMESPACE_HEADER);
    private static final AsciiString KNATIVE_REVISION = lower(KNATIVE_REVISION_HEADER);
    private static final AsciiString SLUICE_FORWARDED = lower(SLUICE_FORWARDED_HEADER);


    /** This thread's head parser while a head is parsed ({@link HeadLines#borrow}), else null. */
    private HeadLines head;
    private State state = State.HEAD;
    private long remaining;
    private final ChunkedBody chunks = new ChunkedBody("chunk-size line over " + ChunkedBody.MAX_CHUNK_LINE
            + " bytes", "trailer section over " + ChunkedBody.MAX_TRAILERS + " bytes");
    private final FramingHeaders framing = new FramingHeaders();
    private ByteBuf pending;
    /** The read being framed, when it is {@code pending} with the new bytes appended (the framer's own buffer). */
    private ByteBuf accumulated;
    private ForwardingHeaders.ForClient client;
    private final LastValue revision = new LastValue();
    private final LastValue knativeNamespace = new LastValue();
    private final LastValue knativeRevision = new LastValue();
    private final LastValue host = new LastValue();
    private final SocketAddress clientAddress;
    private final Sink sink;
    /** The allocator of the {@link #feed} in progress. */
    private ByteBufAllocator alloc;

    /** A framer for one client connection; {@code clientAddress} goes into the forwarding headers. */
    public RequestFramer(SocketAddress clientAddress, Sink sink) {
        this.clientAddress = clientAddress;
        this.sink = sink;
    }

    /**
     * Frames the bytes of one read, which the framer now owns (it releases {@code in}); new
     * buffers come from {@code alloc}.
     */
    public void feed(ByteBuf in, ByteBufAllocator alloc) {
        if (state == State.BROKEN) {
            in.release();
            return;
        }
        ByteBuf src = in;
        if (pending != null) {
            src = pending;
            pending = null;
            src.writeBytes(in);
            in.release();
            accumulated = src;
        }
        this.alloc = alloc;
        try {
            run(src);
        } finally {
            accumulated = null;
            this.alloc = null;
            src.release();
        }
    }

    /**
     * The framer is done with (the connection became a tunnel, or closed): returns the bytes it
     * kept of an unfinished element, a tunnel's first bytes, or null; the caller owns them.
     * Nothing more is framed.
     */
    public ByteBuf detach() {
        ByteBuf p = pending;
        pending = null;
        state = State.BROKEN;
        return p;
    }

    private void run(ByteBuf src) {
        while (true) {
            if (sink.tunnelling()) {
                // Became a tunnel while its messages were handled: the rest is the tunnel's.
                if (src.isReadable()) {
                    sink.tunnelBytes(src.readRetainedSlice(src.readableBytes()));
                }
                return;
            }
            switch (state) {
                case HEAD -> {
                    if (!src.isReadable()) {
                        return;
                    }
                    RequestHead h;
                    head = HeadLines.borrow();
                    try {
                        int end = head.scan(src, MAX_HEAD, MAX_REQUEST_LINE, "request", "request line");
                        if (end == -1) {
                            stash(src);
                            return;
                        }
                        if (end == -2) {
                            h = refused(head.firstLineTooLong() ? 414 : 431, head.error());
                        } else {
                            h = parseHead();
                            src.readerIndex(end);
                        }
                    } finally {
                        head.giveBack();
                        head = null;
                    }
                    sink.head(h);
                    if (h.refused()) {
                        return; // nothing more is read on this connection
                    }
                }
                case LENGTH -> {
                    int n = (int) Math.min(remaining, src.readableBytes());
                    if (n == 0) {
                        return;
                    }
                    remaining -= n;
                    boolean last = remaining == 0;
                    if (last) {
                        state = State.HEAD;
                    }
                    sink.body(new RequestBody(src.readRetainedSlice(n), last));
                    if (!last) {
                        return;
                    }
                }
                case BROKEN -> {
                    return;
                }
                default -> {
                    if (!chunked(src)) {
                        return;
                    }
                }
            }
        }
    }

    private void stash(ByteBuf src) {
        int n = src.readableBytes();
        if (n == 0) {
            return;
        }
        if (src == accumulated && src.refCnt() == 1) {
            // Still unfinished, and no body slice of it is out: keep growing the same buffer, so
            // a head that trickles in byte by byte is not copied anew on every read.
            pending = src.discardReadBytes().retain();
            return;
        }
        pending = alloc.buffer(Math.max(256, n * 2));
        pending.writeBytes(src);
    }

    // ------------------------------------------------------------------ the head

    private RequestHead parseHead() {
        int headLen = head.headLength();
        byte[] b = head.bytes();
        int s = head.start(0);
        int e = head.end(0);
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
        int sp1 = Ascii.indexOf(b, s, e, (byte) ' ');
        int sp2 = sp1 < 0 ? -1 : Ascii.indexOf(b, sp1 + 1, e, (byte) ' ');
        if (sp1 <= s || sp2 <= sp1 + 1) {
            return refused(400, "not a request line (method SP target SP HTTP-version)");
        }
        for (int i = s; i < sp1; i++) {
            if (!Ascii.isTokenChar(b[i])) {
                return refused(400, "a request method with a character that is not allowed");
            }
        }
        for (int i = sp1 + 1; i < sp2; i++) {
            int c = b[i] & 0xff;
            if (c <= 0x20 || c == 0x7f) {
                return refused(400, "a control character in the request target");
            }
        }
        int v = sp2 + 1;
        if (e - v != 8 || !Ascii.startsWith(b, v, "HTTP/") || !Ascii.isDigit(b[v + 5]) || b[v + 6] != '.'
                || !Ascii.isDigit(b[v + 7])) {
            return refused(400, "not an HTTP version at the end of the request line");
        }
        if (b[v + 5] != '1') {
            return refused(505, "HTTP/" + (char) b[v + 5] + "." + (char) b[v + 7]
                    + " is not supported (HTTP/1.0 and HTTP/1.1 are)");
        }
        // HTTP/1.2 and later minor versions are read, and forwarded, as 1.1 (RFC 9112 §2.3).
        boolean http11 = b[v + 7] != '0';
        boolean headMethod = sp1 - s == 4 && Ascii.startsWith(b, s, "HEAD");
        if (!head.checkHeaders()) {
            return refused(400, head.error());
        }

        FramingHeaders f = framing;
        f.start();
        boolean close = false;
        boolean keepAliveToken = false;
        boolean upgradeToken = false;
        int upgradeLine = -1;
        int hostLine = -1;
        int revisionLine = -1;
        int namespaceLine = -1;
        int knativeRevisionLine = -1;
        boolean forwarded = false;
        for (int li = 1, n = head.count(); li < n; li++) {
            int kind = HeadLines.KEEP;
            if (head.nameIs(li, HOST)) {
                if (hostLine >= 0) {
                    return refused(400, "more than one Host header");
                }
                hostLine = li;
                kind = PodRequestHead.HOST_LINE;
            } else if (head.nameIs(li, SLUICE_REVISION)) {
                revisionLine = revisionLine < 0 ? li : revisionLine;
            } else if (head.nameIs(li, HeadLines.CONTENT_LENGTH)) {
                int read = f.contentLength(head, li);
                if (read == FramingHeaders.REFUSED) {
                    return refused(400, f.error);
                }
                kind = read == FramingHeaders.FIRST ? PodRequestHead.LENGTH_LINE : HeadLines.DROP;
            } else if (head.nameIs(li, HeadLines.TRANSFER_ENCODING)) {
                f.transferEncoding(head, li);
                kind = PodRequestHead.CODING_LINE;
            } else if (head.nameIs(li, HeadLines.CONNECTION)) {
                kind = HeadLines.DROP;
                int options = head.connectionOptions(li);
                close |= (options & HeadLines.CONNECTION_CLOSE) != 0;
                keepAliveToken |= (options & HeadLines.CONNECTION_KEEP_ALIVE) != 0;
                upgradeToken |= (options & HeadLines.CONNECTION_UPGRADE) != 0;
            } else if (head.nameIs(li, HeadLines.UPGRADE_NAME)) {
                kind = HeadLines.DROP;
                upgradeLine = upgradeLine < 0 ? li : upgradeLine;
            } else if (head.nameIs(li, X_FORWARDED_FOR)) {
                kind = PodRequestHead.XFF_LINE;
            } else if (head.nameIs(li, FORWARDED)) {
                kind = PodRequestHead.FORWARDED_LINE;
            } else if (head.nameIs(li, KNATIVE_NAMESPACE)) {
                namespaceLine = namespaceLine < 0 ? li : namespaceLine;
            } else if (head.nameIs(li, KNATIVE_REVISION)) {
                knativeRevisionLine = knativeRevisionLine < 0 ? li : knativeRevisionLine;
            } else if (head.nameIs(li, SLUICE_FORWARDED)) {
                forwarded = true;
            } else if (head.isHopByHop(li)) {
                kind = HeadLines.DROP;
            }
            head.kind(li, kind);
        }
        head.dropNamed();

        // The body's length (RFC 9112 §6): refuse what a pod behind Sluice could read otherwise.
        // Forwarded, a Transfer-Encoding is chunked alone, on one line.
        long length = f.length;
        if (f.codingLines > 0) {
            if (!http11) {
                return refused(400, "Transfer-Encoding in an HTTP/1.0 request");
            }
            if (length >= 0) {
                return refused(400, "both Content-Length and Transfer-Encoding");
            }
            if (f.codingLines > 1) {
                return refused(400, "more than one Transfer-Encoding header");
            }
            if (f.chunkedCodings > 1) {
                return refused(400, "chunked applied more than once (Transfer-Encoding)");
            }
            if (!f.chunkedLast) {
                return refused(501, "a Transfer-Encoding whose last coding is not chunked (the body's length cannot be known)");
            }
            if (f.codings > 1) {
                return refused(501, "a transfer coding other than chunked (only chunked is forwarded)");
            }
        }
        if (http11 && hostLine < 0) {
            return refused(400, "an HTTP/1.1 request without Host");
        }
        if (f.codingLines > 0) {
            state = State.CHUNKED;
            chunks.start();
        } else if (length > 0) {
            state = State.LENGTH;
            remaining = length;
        }
        boolean keepAlive = http11 ? !close : keepAliveToken && !close;
        // HTTP/1.0 has no upgrade: its Upgrade header is ignored (RFC 9110 §7.8).
        String upgrade = http11 && upgradeToken && upgradeLine >= 0 ? value(upgradeLine) : null;
        ForwardingHeaders.ForClient c = client;
        if (c == null) {
            c = new ForwardingHeaders.ForClient(clientAddress);
            client = c;
        }
        ByteBuf wire = PodRequestHead.write(head, f, c, headLen, http11, upgradeLine, upgrade != null, hostLine, alloc);
        return new RequestHead(wire, cached(revision, revisionLine), cached(knativeNamespace, namespaceLine),
                cached(knativeRevision, knativeRevisionLine), cached(host, hostLine), headMethod, http11, keepAlive,
                state != State.HEAD, upgrade, forwarded);
    }

    private RequestHead refused(int status, String why) {
        state = State.BROKEN;
        return RequestHead.refused(status, why);
    }

    private String value(int line) {
        return new String(head.bytes(), head.valueStart(line), head.valueEnd(line) - head.valueStart(line),
                StandardCharsets.ISO_8859_1);
    }

    private String cached(LastValue last, int line) {
        return line < 0 ? null : last.of(head.bytes(), head.valueStart(line), head.valueEnd(line));
    }

    // ------------------------------------------------------------------ a chunked body

    /**
     * Passes a chunked body on in canonical form ({@link ChunkedBody}); true when the body ended in
     * {@code src} (the framer then reads the next head), false when more bytes are needed or
     * the body was malformed.
     */
    private boolean chunked(ByteBuf src) {
        int from = src.readerIndex();
        while (true) {
            int kind = chunks.next(src);
            if (kind == ChunkedBody.MORE) {
                return partial(src, from);
            }
            if (kind == ChunkedBody.MALFORMED) {
                return malformedBody(src, chunks.error());
            }
            int keep = chunks.keep();
            if (keep < chunks.length()) {
                // A chunk-size line with extensions: the pod gets the size alone.
                int r = src.readerIndex();
                if (r > from) {
                    sink.body(new RequestBody(src.retainedSlice(from, r - from), false));
                }
                sink.body(new RequestBody(alloc.buffer(keep + 2).writeBytes(src, r, keep).writeBytes(HeadLines.CRLF),
                        false));
                from = r + chunks.length();
            }
            src.skipBytes(chunks.length());
            if (kind == ChunkedBody.LAST) {
                state = State.HEAD;
                sink.body(new RequestBody(src.retainedSlice(from, src.readerIndex() - from), true));
                return true;
            }
        }
    }

    /** More bytes are needed: passes on the body bytes read so far; an unfinished line waits in pending. */
    private boolean partial(ByteBuf src, int from) {
        int r = src.readerIndex();
        if (r > from) {
            sink.body(new RequestBody(src.retainedSlice(from, r - from), false));
        }
        stash(src); // may keep src itself: leave its reader index where it is
        return false;
    }

    private boolean malformedBody(ByteBuf src, String why) {
        state = State.BROKEN;
        src.skipBytes(src.readableBytes());
        sink.body(RequestBody.malformed(why));
        return false;
    }

    /** A header value as a string, made anew only when it differs from the one before. */
    private static final class LastValue {
        private byte[] bytes = new byte[0];
        private String string;

        String of(byte[] b, int from, int to) {
            if (string != null && Arrays.equals(bytes, 0, bytes.length, b, from, to)) {
                return string;
            }
            bytes = Arrays.copyOfRange(b, from, to);
            string = new String(bytes, StandardCharsets.ISO_8859_1);
            return string;
        }
    }

    private static AsciiString lower(String name) {
        return AsciiString.cached(name.toLowerCase(Locale.ROOT));
    }
}
