package dev.sluice.server.proxy;

import dev.sluice.http1.RequestFramer;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The {@code Sluice-Forwarded} lines of a request head: how many replicas forwarded the request
 * in turn (each appends its own line, {@code sluice-forwarded: <id>}, after the others), and
 * the id the last one wrote. Read only for a forward that reaches a replica that does not own
 * its revision (an ownership change under way), so the head is scanned off the common path.
 */
final class ForwardMarks {

    private static final byte[] KEY = HeadBytes.key(RequestFramer.SLUICE_FORWARDED_HEADER);

    private ForwardMarks() {
    }

    /** Where {@code f} sends the forward whose head is {@code head}: the next replica's address, or null to serve it here. */
    static String next(Forwarding f, Route route, ByteBuf head) {
        int hops = 0;
        int last = -1;
        for (int at = HeadBytes.valueOf(head, KEY, head.readerIndex()); at >= 0;
                at = HeadBytes.valueOf(head, KEY, at)) {
            hops++;
            last = at;
        }
        return f.target(route, Math.max(hops, 1), last < 0 ? null : value(head, last));
    }

    /** The value that starts at {@code at}, up to its line's end, without trailing spaces. */
    static String value(ByteBuf head, int at) {
        int end = at;
        while (end < head.writerIndex() && head.getByte(end) != '\r' && head.getByte(end) != '\n') {
            end++;
        }
        while (end > at && (head.getByte(end - 1) == ' ' || head.getByte(end - 1) == '\t')) {
            end--;
        }
        return head.toString(at, end - at, StandardCharsets.ISO_8859_1);
    }
}
