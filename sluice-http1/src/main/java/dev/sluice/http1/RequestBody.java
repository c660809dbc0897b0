package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * Bytes of a request's body as the client sent them (a chunked body keeps its chunk framing:
 * the pod reads it as it came), from {@link RequestFramer}. {@link #last}: the body ends here.
 * A body the framer found malformed ends with one that carries {@link #error} and no bytes.
 */
public final class RequestBody extends DefaultByteBufHolder {

    public final boolean last;
    /** Why the body cannot be forwarded, or null. */
    public final String error;

    RequestBody(ByteBuf bytes, boolean last) {
        super(bytes);
        this.last = last;
        this.error = null;
    }

    private RequestBody(String error) {
        super(Unpooled.EMPTY_BUFFER);
        this.last = true;
        this.error = error;
    }

    /** The body cannot be read on: the exchange answers 400 (or closes) and the connection ends. */
    static RequestBody malformed(String why) {
        return new RequestBody(why);
    }
}
