package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Writes the head {@link ResponseFramer} sends to the client from the head it parsed: the
 * status line in Sluice's version (HTTP/1.1, RFC 9110 §6.2), the kept header lines, the framing
 * header in canonical form ({@link FramingHeaders}) or none, and the client's {@code Connection}
 * header. Stateless: it works on the caller's {@link HeadLines}.
 */
final class ClientResponseHead {

    // Line kinds beyond HeadLines' KEEP and DROP, which ResponseFramer gives (pass 1), by which
    // write (pass 2) writes or skips each header line.
    static final int LENGTH_LINE = HeadLines.FIRST_FREE;
    static final int CODING_LINE = HeadLines.FIRST_FREE + 1;
    static final int UPGRADE_LINE = HeadLines.FIRST_FREE + 2;

    private static final byte[] CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_11 = "HTTP/1.1".getBytes(StandardCharsets.US_ASCII);

    private ClientResponseHead() {
    }

    /** What the rewritten head says of the client's connection. */
    enum End { AS_IS, CLOSE, KEEP_ALIVE, UPGRADE }

    /**
     * Writes the rewritten head into {@code o}: the status line, the kept headers, the
     * client's Connection header, the empty line. For a 101, Connection and Upgrade as the
     * tunnel needs them (the pod's Upgrade value, else {@code upgradeAsked}).
     * {@code dropLength}, {@code dropCoding}: leave out the Content-Length or Transfer-Encoding.
     */
    static void write(ByteBuf o, HeadLines head, FramingHeaders f, End how, int upgradeLine, byte[] upgradeAsked,
            boolean dropLength, boolean dropCoding) {
        byte[] b = head.bytes();
        int s = head.start(0);
        o.writeBytes(HTTP_11).writeBytes(b, s + 8, head.end(0) - s - 8);
        if (head.end(0) - s == 12) {
            o.writeByte(' '); // the SP before an empty reason phrase is not optional (RFC 9112 §4)
        }
        o.writeBytes(HeadLines.CRLF);
        for (int li = 1, n = head.count(); li < n; li++) {
            int k = head.kind(li);
            if (k == HeadLines.DROP || k == UPGRADE_LINE || k == LENGTH_LINE && dropLength || k == CODING_LINE && dropCoding) {
                continue;
            }
            if (k == LENGTH_LINE && !f.lengthAsIs()) {
                o.writeBytes(FramingHeaders.CONTENT_LENGTH_LINE).writeBytes(b, f.digitsStart(),
                        f.digitsEnd() - f.digitsStart()).writeBytes(HeadLines.CRLF);
            } else if (k == CODING_LINE && !f.codingAsIs() && f.onlyChunked()) {
                o.writeBytes(FramingHeaders.CHUNKED_LINE);
            } else {
                int ls = head.start(li);
                o.writeBytes(b, ls, head.end(li) - ls).writeBytes(HeadLines.CRLF);
            }
        }
        switch (how) {
            case UPGRADE -> {
                o.writeBytes(HeadLines.UPGRADE);
                if (upgradeLine >= 0) {
                    o.writeBytes(b, head.valueStart(upgradeLine), head.valueEnd(upgradeLine) - head.valueStart(upgradeLine));
                } else {
                    o.writeBytes(upgradeAsked);
                }
                o.writeBytes(HeadLines.CRLF);
            }
            case CLOSE -> o.writeBytes(CLOSE);
            case KEEP_ALIVE -> o.writeBytes(HeadLines.KEEP_ALIVE);
            default -> {
            }
        }
        o.writeBytes(HeadLines.CRLF);
    }
}
