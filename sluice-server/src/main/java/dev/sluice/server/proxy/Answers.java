package dev.sluice.server.proxy;

import dev.sluice.server.metrics.Outcome;
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

    private Answers() {
    }

    static FullHttpResponse of(HttpResponseStatus status, Outcome reason, String body, boolean keepAlive) {
        return of(status, reason, body, keepAlive, false);
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
