package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Looks for a header field in a request head as {@link RequestFramer} wrote it for the pod
 * (request line, then one field per CRLF-ended line), for the few decisions that need a field
 * the framer does not report. It reads the buffer in place and allocates nothing; callers use
 * it only off the common path (a replay being decided, a body being buffered).
 */
final class HeadBytes {

    private HeadBytes() {
    }

    /** {@code name} as a search key: a line start, the name in lower case, the colon. */
    static byte[] key(String name) {
        return ("\n" + name.toLowerCase(Locale.ROOT) + ":").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Where the value of the first field named by {@code key} starts (after the colon and any
     * spaces or tabs), or -1 if the head has no such field.
     */
    static int valueOf(ByteBuf head, byte[] key) {
        return valueOf(head, key, head.readerIndex());
    }

    /**
     * Where the value of the first field named by {@code key} at or after {@code from} starts, or
     * -1: called again with the previous value's start, it walks every field of that name.
     */
    static int valueOf(ByteBuf head, byte[] key, int from) {
        int end = head.writerIndex() - key.length;
        for (int i = from; i <= end; i++) {
            if (head.getByte(i) == '\n' && matches(head, i, key, true)) {
                int v = i + key.length;
                while (v < head.writerIndex() && (head.getByte(v) == ' ' || head.getByte(v) == '\t')) {
                    v++;
                }
                return v;
            }
        }
        return -1;
    }

    /** Whether the bytes at {@code at} are {@code token} (ASCII letters of the buffer compared in lower case when {@code ignoreCase}). */
    static boolean matches(ByteBuf b, int at, byte[] token, boolean ignoreCase) {
        if (at < 0 || at + token.length > b.writerIndex()) {
            return false;
        }
        for (int k = 0; k < token.length; k++) {
            int c = b.getByte(at + k);
            if (ignoreCase && c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != token[k]) {
                return false;
            }
        }
        return true;
    }
}
