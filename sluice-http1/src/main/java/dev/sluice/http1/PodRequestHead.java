package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Writes the head {@link RequestFramer} sends to the pod from the head it parsed: the request
 * line (HTTP/1.2 and later as HTTP/1.1), the kept header lines, the framing header in canonical
 * form ({@link FramingHeaders}), {@code X-Forwarded-For} and {@code Forwarded} with this client
 * appended to every earlier hop's values, and the pod-side {@code Connection} header. Stateless:
 * it works on the caller's {@link HeadLines}, assembled there and copied out once.
 */
final class PodRequestHead {

    // Line kinds beyond HeadLines' KEEP and DROP, which RequestFramer gives. The framing headers
    // and Host have their own so that a Connection header naming them cannot drop them
    // (HeadLines.dropNamed drops only KEEP lines): the pod must frame the body as Sluice did.
    static final int LENGTH_LINE = HeadLines.FIRST_FREE;
    static final int CODING_LINE = HeadLines.FIRST_FREE + 1;
    static final int HOST_LINE = HeadLines.FIRST_FREE + 2;
    static final int XFF_LINE = HeadLines.FIRST_FREE + 3;
    static final int FORWARDED_LINE = HeadLines.FIRST_FREE + 4;

    private static final byte[] LIST_SEPARATOR = {',', ' '};
    private static final byte[] XFF_PREFIX = "x-forwarded-for: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FORWARDED_PREFIX = "forwarded: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HOST_PARAMETER = ";host=\"".getBytes(StandardCharsets.US_ASCII);

    private PodRequestHead() {
    }

    /**
     * The head for the pod: the request line, the kept headers, X-Forwarded-For and Forwarded
     * with this client appended, the pod-side Connection header, the empty line.
     */
    static ByteBuf write(HeadLines h, FramingHeaders f, ForwardingHeaders.ForClient c, int headLen, boolean http11,
            int upgradeLine, boolean upgrade, int hostLine, ByteBufAllocator alloc) {
        byte[] b = h.bytes();
        h.startOut(headLen + 96 + c.forElement().length + c.ip().length
                + (hostLine < 0 ? 0 : 2 * (h.valueEnd(hostLine) - h.valueStart(hostLine))));
        if (http11 && b[h.end(0) - 1] != '1') {
            h.put(b, h.start(0), h.end(0) - 1); // HTTP/1.2 and later: the pod gets 1.1
            h.put((byte) '1');
        } else {
            h.put(b, h.start(0), h.end(0));
        }
        h.put(HeadLines.CRLF);
        for (int li = 1, n = h.count(); li < n; li++) {
            int k = h.kind(li);
            if (k == LENGTH_LINE && !f.lengthAsIs()) {
                h.put(FramingHeaders.CONTENT_LENGTH_LINE);
                h.put(b, f.digitsStart(), f.digitsEnd());
                h.put(HeadLines.CRLF);
            } else if (k == CODING_LINE && !f.codingAsIs()) {
                h.put(FramingHeaders.CHUNKED_LINE);
            } else if (k == HeadLines.KEEP || k == LENGTH_LINE || k == CODING_LINE || k == HOST_LINE) {
                h.put(b, h.start(li), h.end(li));
                h.put(HeadLines.CRLF);
            }
        }
        h.put(XFF_PREFIX);
        putEarlierValues(h, XFF_LINE);
        h.put(c.ip());
        h.put(HeadLines.CRLF);
        h.put(FORWARDED_PREFIX);
        putEarlierValues(h, FORWARDED_LINE);
        h.put(c.forElement());
        if (hostLine >= 0) {
            h.put(HOST_PARAMETER);
            for (int i = h.valueStart(hostLine), to = h.valueEnd(hostLine); i < to; i++) {
                if (b[i] == '"' || b[i] == '\\') {
                    h.put((byte) '\\'); // a quoted-string's quoted-pair (RFC 7239 §4)
                }
                h.put(b[i]);
            }
            h.put((byte) '"');
        }
        h.put(HeadLines.CRLF);
        if (upgrade) {
            h.put(HeadLines.UPGRADE);
            h.put(b, h.valueStart(upgradeLine), h.valueEnd(upgradeLine));
            h.put(HeadLines.CRLF);
        } else if (!http11) {
            h.put(HeadLines.KEEP_ALIVE);
        }
        h.put(HeadLines.CRLF);
        return h.outTo(alloc);
    }

    /** The values of the lines of {@code kind} (earlier hops' forwarding headers), each followed by ", ". */
    private static void putEarlierValues(HeadLines h, int kind) {
        for (int li = 1, n = h.count(); li < n; li++) {
            if (h.kind(li) == kind && h.valueEnd(li) > h.valueStart(li)) {
                h.put(h.bytes(), h.valueStart(li), h.valueEnd(li));
                h.put(LIST_SEPARATOR);
            }
        }
    }
}
