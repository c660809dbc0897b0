package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;

/**
 * What a relayed call has sent of its body so far, kept (retained duplicates) until the pod's
 * answer begins, so that a stream the pod refused unprocessed ({@code REFUSED_STREAM}, or above
 * its GOAWAY's last stream id: a pod that rotates its connections) can go again on a new one
 * (RFC 9113 §8.7). Up to {@code client.requestBuffer} bytes, as the translated way holds a body;
 * a larger body is not kept, and its call is not sent twice.
 *
 * <h2>Implementation notes</h2>
 * Owned by one {@link H2RelayStream}, on its event loop only.
 */
final class H2BodyCopies {

    private static final ChannelFutureListener NOTHING = f -> { };

    private final int limit;
    private final List<ByteBuf> parts = new ArrayList<>(2);
    private int bytes;
    private boolean ended;
    private Http2Headers trailers;

    H2BodyCopies(int limit) {
        this.limit = limit;
    }

    /** Keeps a copy of a part sent; false (and nothing kept any more) once the body outgrows the limit. */
    boolean keep(ByteBuf part, boolean end) {
        bytes += part.readableBytes();
        if (bytes > limit) {
            release();
            return false;
        }
        parts.add(part.retainedDuplicate());
        ended = end;
        return true;
    }

    /** The body's trailers, sent. */
    void trailers(Http2Headers h) {
        trailers = h;
    }

    /** Sends what was sent before again, on stream {@code id} of {@code c}. */
    void resend(H2RelayPod c, int id) {
        for (int i = 0, n = parts.size(); i < n; i++) {
            c.sendData(id, parts.get(i).retainedDuplicate(), ended && i == n - 1, NOTHING);
        }
        if (trailers != null) {
            c.sendTrailers(id, trailers);
        }
    }

    void release() {
        for (int i = 0, n = parts.size(); i < n; i++) {
            parts.get(i).release();
        }
        parts.clear();
    }
}
