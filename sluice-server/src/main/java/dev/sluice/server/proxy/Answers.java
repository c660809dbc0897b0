package dev.sluice.server.proxy;

import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Responses Sluice writes itself: each says why, in the body and in {@code Sluice-Reason}. */
final class Answers {

    static final String SLUICE_REASON = "Sluice-Reason";
    static final String GRPC_STATUS = "grpc-status";
    static final String GRPC_MESSAGE = "grpc-message";

    private Answers() {
    }

    static FullHttpResponse of(HttpResponseStatus status, Outcome reason, String body, boolean keepAlive) {
        return of(status, reason, body, keepAlive, false);
    }

    /**
     * The answer to the request whose head (as written for the pod) is {@code head}: a gRPC call
     * ({@code content-type: application/grpc*}, either protocol) gets {@link #grpc}, any other
     * request {@link #of(HttpResponseStatus, Outcome, String, boolean, boolean)}.
     */
    static FullHttpResponse to(ByteBuf head, HttpResponseStatus status, Outcome reason, String body,
            boolean keepAlive, boolean headRequest) {
        return Grpc.isCall(head) ? grpc(status, reason, body, keepAlive)
                : of(status, reason, body, keepAlive, headRequest);
    }

    /**
     * Sluice's answer to a gRPC call, as gRPC servers answer: trailers-only (HTTP 200, no body;
     * on HTTP/2 one HEADERS frame that ends the stream), {@code grpc-status} for what
     * {@code status} means ({@link Grpc#status}), {@code grpc-message} with the reason, and
     * {@code Sluice-Reason} as on every answer of Sluice's. A gRPC client then reports e.g.
     * {@code UNAVAILABLE: the queue of revision default/x is full}, not a bare HTTP 503.
     */
    static FullHttpResponse grpc(HttpResponseStatus status, Outcome reason, String body, boolean keepAlive) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                .set(GRPC_STATUS, Integer.toString(Grpc.status(status, reason)))
                .set(GRPC_MESSAGE, Grpc.percentEncode(body.strip()))
                .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (reason != null) {
            r.headers().set(SLUICE_REASON, reason.wireName());
        }
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }

    /**
     * As above; {@code headRequest}: the answer to a HEAD request has the same headers and no
     * body (the client encoder does not know the request's method).
     */
    static FullHttpResponse of(HttpResponseStatus status, Outcome reason, String body, boolean keepAlive,
            boolean headRequest) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                headRequest ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (reason != null) {
            r.headers().set(SLUICE_REASON, reason.wireName());
        }
        if (status.code() == 503 || status.code() == 429) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        }
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
