package dev.sluice.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * A request's head as {@link RequestFramer} read it: what routing and the exchange need to
 * know, and (its content) the head to send to the pod, already rewritten: hop-by-hop headers
 * removed, the forwarding headers and the pod-side {@code Connection} header added. A head the
 * framer refused carries {@link #errorStatus} and {@link #error} instead, and no bytes.
 */
public final class RequestHead extends DefaultByteBufHolder {

    /** The {@code Sluice-Revision}, {@code Knative-Serving-*} and {@code Host} values (trimmed), each null if absent. */
    public final String revision;
    public final String knativeNamespace;
    public final String knativeRevision;
    public final String host;
    public final boolean headMethod;
    public final boolean http11;
    /** Whether the client keeps its connection open after this exchange. */
    public final boolean keepAlive;
    /** Whether a body follows (a Content-Length above 0, or chunked). */
    public final boolean hasBody;
    /** The protocol the request asks to upgrade to, or null. */
    public final String upgrade;
    /** Whether the request carries {@code Sluice-Forwarded}: another Sluice replica sent it. */
    public final boolean forwarded;
    /** For a refused head: the status to answer with and why; else 0 and null. */
    public final int errorStatus;
    public final String error;

    RequestHead(ByteBuf wire, String revision, String knativeNamespace, String knativeRevision, String host,
            boolean headMethod, boolean http11, boolean keepAlive, boolean hasBody, String upgrade,
            boolean forwarded) {
        super(wire);
        this.revision = revision;
        this.knativeNamespace = knativeNamespace;
        this.knativeRevision = knativeRevision;
        this.host = host;
        this.headMethod = headMethod;
        this.http11 = http11;
        this.keepAlive = keepAlive;
        this.hasBody = hasBody;
        this.upgrade = upgrade;
        this.forwarded = forwarded;
        this.errorStatus = 0;
        this.error = null;
    }

    private RequestHead(int errorStatus, String error) {
        super(Unpooled.EMPTY_BUFFER);
        this.revision = null;
        this.knativeNamespace = null;
        this.knativeRevision = null;
        this.host = null;
        this.headMethod = false;
        this.http11 = true;
        this.keepAlive = false;
        this.hasBody = false;
        this.upgrade = null;
        this.forwarded = false;
        this.errorStatus = errorStatus;
        this.error = error;
    }

    /** A head the framer refused: answer {@code status}, say {@code why}, and close. */
    static RequestHead refused(int status, String why) {
        return new RequestHead(status, why);
    }

    public boolean refused() {
        return error != null;
    }
}
