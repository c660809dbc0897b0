package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

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
    private static final byte[] IDEMPOTENCY_KEY = HeadBytes.key("Idempotency-Key");

    private ReplayRule() {
    }

    /** Whether the request line starts with a safe method (methods are case-sensitive). */
    static boolean safeMethod(ByteBuf head) {
        int at = head.readerIndex();
        int n = head.writerIndex() - at;
        for (byte[] m : SAFE) {
            if (n >= m.length && HeadBytes.matches(head, at, m, false)) {
                return true;
            }
        }
        return false;
    }

    /** Whether an HTTP/2 request's {@code :method} is a safe one. */
    static boolean safeMethod(CharSequence method) {
        for (byte[] m : SAFE) {
            if (method.length() == m.length - 1) {
                boolean same = true;
                for (int i = 0; i < method.length() && same; i++) {
                    same = method.charAt(i) == m[i];
                }
                if (same) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the head has an {@code Idempotency-Key} field (the name case-insensitively). */
    static boolean hasIdempotencyKey(ByteBuf head) {
        return HeadBytes.valueOf(head, IDEMPOTENCY_KEY) >= 0;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
