package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;

/**
 * Which requests Sluice sends to a pod a second time when the pod's connection closed without
 * an answer. A request that may have reached the pod is sent again only if repeating it is
 * harmless (RFC 9110 §9.2.2): a safe method, or one that carries an {@code Idempotency-Key}
 * (the client said the server deduplicates it). One that provably never reached the pod (the
 * write of its head failed) may always go again. Both checks read the head as the framer wrote
 * it for the pod (request line first) and allocate nothing; the header scan runs only when a
 * replay is being decided, never on the way to the pod.
 */
final class ReplayRule {

    private static final byte[][] SAFE = {bytes("GET "), bytes("HEAD "), bytes("OPTIONS "), bytes("TRACE ")};
    private static final byte[] IDEMPOTENCY_KEY = bytes("\nidempotency-key:");

    private ReplayRule() {
    }

    /** Whether the request line starts with a safe method (methods are case-sensitive). */
    static boolean safeMethod(ByteBuf head) {
        int at = head.readerIndex();
        int n = head.writerIndex() - at;
        for (byte[] m : SAFE) {
            if (n >= m.length && matches(head, at, m, false)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the head has an {@code Idempotency-Key} field (the name case-insensitively). */
    static boolean hasIdempotencyKey(ByteBuf head) {
        int end = head.writerIndex() - IDEMPOTENCY_KEY.length;
        for (int i = head.readerIndex(); i <= end; i++) {
            if (head.getByte(i) == '\n' && matches(head, i, IDEMPOTENCY_KEY, true)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(ByteBuf b, int at, byte[] token, boolean ignoreCase) {
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

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
