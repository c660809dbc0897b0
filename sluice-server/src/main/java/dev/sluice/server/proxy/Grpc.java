package dev.sluice.server.proxy;

import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/**
 * What Sluice needs of the gRPC protocol (gRPC over HTTP/2, PROTOCOL-HTTP2.md) to answer a gRPC
 * call itself and to bound its wait: whether a request is one, the status that stands for
 * Sluice's answer, {@code grpc-message}'s percent-encoding, and {@code grpc-timeout}.
 * Stateless; the head scan runs only when Sluice answers itself, never on the way to a pod.
 */
final class Grpc {

    static final int OK = 0;
    static final int DEADLINE_EXCEEDED = 4;
    static final int RESOURCE_EXHAUSTED = 8;
    static final int UNIMPLEMENTED = 12;
    static final int INTERNAL = 13;
    static final int UNAVAILABLE = 14;

    private static final byte[] CONTENT_TYPE = HeadBytes.key("Content-Type");
    private static final byte[] APPLICATION_GRPC = "application/grpc".getBytes(StandardCharsets.US_ASCII);

    private Grpc() {
    }

    /** Whether a request head (as the framer wrote it for the pod) is a gRPC call: {@code content-type: application/grpc*}. */
    static boolean isCall(ByteBuf head) {
        return HeadBytes.matches(head, HeadBytes.valueOf(head, CONTENT_TYPE), APPLICATION_GRPC, true);
    }

    /** Whether a {@code content-type} value is gRPC's. */
    static boolean isCall(CharSequence contentType) {
        return contentType != null && contentType.length() >= 16
                && contentType.subSequence(0, 16).toString().equalsIgnoreCase("application/grpc");
    }

    /**
     * The gRPC status for Sluice's own answer: {@code RESOURCE_EXHAUSTED} for 429 (the queue full
     * in 429 mode), {@code DEADLINE_EXCEEDED} for the request and response-start timeouts,
     * {@code UNIMPLEMENTED} for no such revision, {@code INTERNAL} for a malformed request, and
     * {@code UNAVAILABLE} for the rest (queue full or timed out, no pod, shutting down, a pod
     * that failed): a client may retry those elsewhere or later.
     */
    static int status(HttpResponseStatus st, Outcome outcome) {
        if (st.code() == 429) {
            return RESOURCE_EXHAUSTED;
        }
        if (outcome == Outcome.REQUEST_TIMEOUT || outcome == Outcome.RESPONSE_START_TIMEOUT) {
            return DEADLINE_EXCEEDED;
        }
        if (outcome == Outcome.UNKNOWN_REVISION) {
            return UNIMPLEMENTED;
        }
        if (outcome == Outcome.MALFORMED_REQUEST) {
            return INTERNAL;
        }
        return UNAVAILABLE;
    }

    /** {@code grpc-message}'s encoding: percent-encoded UTF-8 outside printable ASCII and {@code %}. */
    static String percentEncode(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder(bytes.length);
        for (byte x : bytes) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '%') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
    }

    /**
     * {@code grpc-timeout} (up to 8 digits and a unit: H, M, S, m, u, n) in nanoseconds, rounded
     * down to two significant digits of milliseconds (at most 1% early, and never under 1 ms) so
     * that the deadlines of many calls share a few of the loop's deadline lanes; -1 if the
     * value is malformed.
     */
    static long timeoutNanos(CharSequence v) {
        int n = v.length();
        if (n < 2 || n > 9) {
            return -1;
        }
        long amount = 0;
        for (int i = 0; i < n - 1; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            amount = amount * 10 + (c - '0');
        }
        long nanos = switch (v.charAt(n - 1)) {
            case 'H' -> amount > 1_000_000 ? Long.MAX_VALUE / 2 : amount * 3_600_000_000_000L;
            case 'M' -> amount * 60_000_000_000L;
            case 'S' -> amount * 1_000_000_000L;
            case 'm' -> amount * 1_000_000L;
            case 'u' -> amount * 1_000L;
            case 'n' -> amount;
            default -> -1;
        };
        if (nanos < 0) {
            return -1;
        }
        long ms = Math.max(1, nanos / 1_000_000);
        long scale = 1;
        while (ms >= 100) {
            ms /= 10;
            scale *= 10;
        }
        return ms * scale * 1_000_000L;
    }
}
