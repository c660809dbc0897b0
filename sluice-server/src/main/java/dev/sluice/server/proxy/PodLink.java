package dev.sluice.server.proxy;

import dev.sluice.core.pod.PodTracker;
import dev.sluice.http1.RequestHead;
import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second part of an {@link Exchange}, once {@link Admission} has leased a pod: a connection
 * to it (pooled, or new on the same event loop; a failed connect reports the pod and asks for
 * another once), the request sent on it, and the replay decision when it closes unanswered.
 *
 * <h2>Implementation notes</h2>
 * A base class like {@code Admission}, so a request still makes one object; on the client
 * connection's event loop only. The connection itself is the {@link Relay}'s while
 * {@link #attached}; this class says when it is taken and given back. The connection reports
 * to the exchange, bound as its {@link UpstreamHandler.Listener}.
 *
 * <p>A request whose body arrived whole before the pod was reached keeps a copy of it (in the
 * relay) until the response starts, so that it can be sent once more on a fresh connection if
 * the pod's connection closes without an answer, as {@link ReplayRule} allows: a request that
 * provably never reached the pod (the head's write failed: only then is the write given a
 * promise, one object, and only for a request that is not safe and is complete), or, on a
 * pooled connection that turned out to be stale, a safe method or one with an
 * {@code Idempotency-Key}. Anything else is answered 502 {@code upstream-closed}: a pod that
 * read a POST and died must not get it twice.
 */
abstract class PodLink extends Admission implements UpstreamHandler.Listener, ChannelFutureListener {

    private static final Logger LOG = LoggerFactory.getLogger(PodLink.class);
    private static final byte[] CRLF = {'\r', '\n'};

    final ExchangeListener client;
    final Relay relay;
    final RequestHead request;
    /** A trusted replica's forward: the forwarding rule decides whether it is forwarded on. */
    private final boolean fromReplica;
    boolean requestComplete;
    String podAddress;
    private UpstreamPool pool;
    /** Whether the relay's pod connection is this exchange's (the relay's alone say nothing once done). */
    boolean attached;
    private boolean fromPool;
    private boolean canReplay;
    /** Sent a second time already (see {@link ReplayRule}). */
    private boolean replayed;
    /** The head's write to the current upstream connection failed: nothing reached the pod. */
    private boolean headUnsent;
    private boolean connectRetried;

    PodLink(ExchangeListener client, Relay relay, ChannelHandlerContext ctx, ProxyContext px, Route route,
            RequestHead request, String owner, boolean fromReplica) {
        super(ctx, px, route, owner, RequestClassifier.classOf(route.config().queueing(), request),
                RequestClassifier.tenantOf(route.config().queueing(), request));
        this.fromReplica = fromReplica;
        this.client = client;
        this.relay = relay;
        this.request = request;
        this.requestComplete = !request.hasBody;
    }

    /** The request (its head, and the body held so far) is on the pod's connection. */
    abstract void sent();

    /**
     * The pod is leased, and its slot counted ({@link PodTracker#inFlight()}), before the
     * revision's owner is read again here: if ownership left this replica while the request
     * waited (or read the owner before the change), the lease goes back unused and the request
     * goes to the owner. So once the owner cell changes, nothing more is sent to a pod by this
     * replica, and whatever was sent was counted before the change, where the handoff report
     * that follows the change reads it (see the cluster's {@code HandoffReporter}).
     */
    @Override
    final void admitted(PodTracker leased) {
        RouteOwner o = route.owner();
        if (o != null && o.forwardTo() != null) {
            String next = fromReplica ? ForwardMarks.next(px.forwarding, route, request.content()) : o.forwardTo();
            if (next != null) {
                releasePod();
                owner = next;
                toOwner();
                return;
            }
        }
        link(leased.address());
    }

    /**
     * The owning replica is reached like a pod: a pooled keep-alive connection from this loop's
     * pool or a new one, the same replay rule; the request carries the forwarded mark.
     */
    @Override
    final void toOwner() {
        link(owner);
    }

    private void link(String address) {
        podAddress = address;
        pool = px.pool(ctx.channel().eventLoop());
        Channel ch = h2cToPod() ? null : pool.poll(podAddress);
        if (ch != null) {
            fromPool = true;
            attach(ch);
        } else {
            connect();
        }
    }

    /**
     * Whether the request goes to an h2c pod as a stream. A forward to the revision's owner
     * replica goes as HTTP/1.1 whatever the pods speak: the owner translates, and the peer
     * connection pool stays one protocol.
     */
    private boolean h2cToPod() {
        return owner == null && config().h2c();
    }

    private void connect() {
        if (h2cToPod()) {
            // A stream on the pod's HTTP/2 connection, which may have been open a while: a
            // stream that closes unanswered is judged like a pooled connection's request.
            fromPool = true;
            Future<Channel> s = pool.openStream(podAddress);
            if (s.isDone()) {
                connected(s.isSuccess() ? s.getNow() : null, s.cause());
            } else {
                s.addListener(x -> connected(s.isSuccess() ? s.getNow() : null, s.cause()));
            }
            return;
        }
        fromPool = false;
        ChannelFuture f = pool.connect(podAddress);
        if (f.isDone()) {
            connected(f.isSuccess() ? f.channel() : null, f.cause());
        } else {
            f.addListener(x -> connected(f.isSuccess() ? f.channel() : null, f.cause()));
        }
    }

    /** The connection (or h2c stream) to the pod: {@code ch}, or null and why not. */
    private void connected(Channel ch, Throwable cause) {
        if (done) {
            if (ch != null) {
                ch.close();
            }
            return;
        }
        if (ch != null) {
            attach(ch);
            return;
        }
        if (owner != null) {
            // Nothing was sent. The replica set is told (a refused connect takes that replica
            // out of the live set at once); if that gave the revision another owner — this
            // replica, which then holds the pods for the old owner's requests, or another one —
            // the request goes there, once. Else 503: serving it here could overshoot the
            // owner's limit.
            LOG.debug("connect to {}, the owner of {}, failed: {}", podAddress, config().id(), String.valueOf(cause));
            px.forwarding.ownerUnreachable(podAddress);
            String next = route.owner().forwardTo();
            if (!connectRetried && !podAddress.equals(next)) {
                connectRetried = true;
                owner = next;
                ready(px.clock.nanoTime(), Long.MAX_VALUE); // goes to the owner: no queue clock here
                return;
            }
            refuse(HttpResponseStatus.SERVICE_UNAVAILABLE, Outcome.OWNER_UNREACHABLE, "the Sluice replica that"
                    + " owns revision " + config().id() + " (" + podAddress + ") cannot be reached: "
                    + (cause == null ? "no connection" : cause.getMessage()) + "\n");
            return;
        }
        // Nothing of the request reached the pod: report it and try another pod once.
        LOG.debug("connect to {} for {} failed: {}", podAddress, config().id(), String.valueOf(cause));
        reportUnreachable(podAddress);
        String failedAddress = podAddress;
        releasePod();
        if (!connectRetried) {
            connectRetried = true;
            admit();
        } else {
            refuse(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR,
                    "could not connect to pod " + failedAddress + " of revision " + config().id() + "\n");
        }
    }

    private void attach(Channel ch) {
        relay.attach(ch);
        attached = true;
        ch.pipeline().get(UpstreamHandler.class).bind(this, request.headMethod, request.keepAlive,
                request.http11, request.upgrade);
        canReplay = requestComplete;
        headUnsent = false;
        ByteBuf head = request.content();
        // Only a failed write proves that a request that is not safe never reached the pod; a
        // safe one is replayed anyway, so it needs no promise (none is allocated).
        // The head stays the exchange's (released in its end): a replay sends it again.
        relay.sendRequest(owner == null ? head.retainedDuplicate() : marked(head), canReplay && !ReplayRule.safeMethod(head) ? this : null,
                canReplay);
        sent();
    }

    /** The head with {@code sluice-forwarded: <self>} before its last CRLF (a head ends with CRLF CRLF). */
    private ByteBuf marked(ByteBuf head) {
        return Unpooled.wrappedBuffer(head.retainedSlice(head.readerIndex(), head.readableBytes() - 2),
                Unpooled.wrappedBuffer(px.forwarding.markLine()), Unpooled.wrappedBuffer(CRLF));
    }

    /** The head's write to the pod: a failure proves the pod never saw the request. */
    @Override
    public final void operationComplete(ChannelFuture f) {
        if (!f.isSuccess() && !done && attached && f.channel() == relay.pod()) {
            headUnsent = true;
        }
    }

    /** The pod's connection closed by itself: it is no longer the relay's. */
    final void podConnectionGone() {
        if (attached) {
            attached = false;
            relay.podClosed();
        }
    }

    /**
     * The pod's connection closed ({@code cause}, or null) before the response started: sends
     * the request again on a fresh connection if {@link ReplayRule} allows it, and says whether
     * it did.
     */
    final boolean replayed(Throwable cause) {
        if (cause == Http2ToHttp1Response.UNPROCESSED) {
            headUnsent = true; // an h2c pod refused the stream before processing it (RFC 9113 §8.7)
        }
        if (canReplay && !replayed && (headUnsent || fromPool && replayable())) {
            replayed = true;
            connect();
            return true;
        }
        return false;
    }

    /** Why the 502 for a pod that closed unanswered ({@code cause} or null), when no replay was allowed. */
    final String closedUnanswered(Throwable cause) {
        return "pod " + podAddress + " of revision " + config().id() + " closed the connection before answering"
                + (cause == null ? "" : ": " + cause.getMessage())
                + (!replayed && !replayable() ? "; the request may have reached it, and is not sent twice unless"
                        + " its method is safe or it carries an Idempotency-Key" : "") + "\n";
    }

    /**
     * Repeating the request on another connection is harmless: a safe method, or an
     * {@code Idempotency-Key} (scanned only now, when a pooled connection closed unanswered).
     */
    private boolean replayable() {
        ByteBuf head = request.content();
        return ReplayRule.safeMethod(head) || ReplayRule.hasIdempotencyKey(head);
    }

    /** The response ended: the connection goes back to the pool if {@code reuse}, else closed. */
    final void givePodBack(boolean reuse) {
        attached = false;
        Channel up = relay.detach(reuse);
        if (up != null) {
            pool.offer(podAddress, up);
        }
    }

    /** The exchange failed or the client left: the connection, if any, is closed; the lease released. */
    final void abortPod() {
        if (attached) {
            attached = false;
            relay.detach(false);
        }
        releasePod();
    }

    /** No replay from now: the body copies are dropped. */
    final void releaseEarly() {
        relay.releaseEarly();
        canReplay = false;
    }
}
