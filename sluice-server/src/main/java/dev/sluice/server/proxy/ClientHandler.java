package dev.sluice.server.proxy;

import dev.sluice.http1.RequestBody;
import dev.sluice.http1.RequestHead;
import dev.sluice.server.config.ClientLimits;
import dev.sluice.server.config.Durations;
import dev.sluice.server.metrics.ClientMetrics.Phase;
import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * One client connection, where the request's way starts: requests are served one at a time, in
 * order, each by an {@link Exchange} this handler makes and feeds the client's events; the
 * exchange reports its end back through {@link ExchangeListener}, which this handler is. While
 * an exchange runs, the next pipelined request (if the client sends one) waits in a small
 * backlog, and the client is held (see {@link Relay}, which owns reading) as soon as the backlog
 * takes anything, so it holds at most one read's worth. Reading is switched only when needed (a
 * body to hold back, a pipelined request): a request without a body that switched it off and
 * on again paid two system calls.
 *
 * <p>Writes: Sluice's own answers go through {@code ctx.channel().write}, which passes the
 * response encoder placed after this handler; a pod's bytes go through the {@link Relay}.
 *
 * <h2>Client timeouts</h2>
 * One deadline per connection, on the loop's {@link Deadlines}, moved ({@link Deadlines#rearm},
 * no allocation) as the connection goes through its phases; {@link #phase} says what it guards:
 * <ul>
 * <li>{@code HEAD}: a head is due (a new connection, or bytes came while idle): at expiry 408
 *     {@code request-head-timeout} and close; a new connection that never sent a byte is closed
 *     without an answer (counted idle): a client that connected ahead of need (a preconnect)
 *     might read an unasked-for 408 as the answer to the request it sends next. Bytes that come while idle only mark the phase
 *     {@code HEAD_STARTED}; the head timer starts at the end of that read, so a head that comes
 *     whole in one read (nearly all) moves the deadline only when its exchange ends.</li>
 * <li>{@code IDLE}: kept alive, nothing in progress: at expiry close, no answer.</li>
 * <li>{@code BODY}: the exchange takes a body: every read moves the deadline; at expiry, unless
 *     Sluice itself holds the client back (auto-read off: queued, or the pod is slow to take
 *     it), the exchange answers 408 {@code request-body-timeout} and frees the pod.</li>
 * <li>{@code NONE}: the request is whole; the exchange's own deadlines apply.</li>
 * <li>{@code LINGER}: the connection closes after an answer that came before the request's
 *     body ended (a pod, or Sluice, answered early): Sluice sends the answer and a FIN and
 *     reads and drops what the client still sends, until the client closes or
 *     {@link #LINGER_TIME} (or {@code client.timeouts.bodyStall}, if shorter) has passed.
 *     Closing at once with the client's bytes unread would send a TCP reset, and a reset makes
 *     the client's system drop the answer's bytes it has not read yet.</li>
 * </ul>
 * {@link BytesWatch}, ahead of the framer in the pipeline, reports each read: the framer keeps a
 * partial head to itself, so only that handler sees a head arrive byte by byte. All of this
 * runs on the connection's event loop, like the rest of the handler.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter implements Deadlines.Expiring, ExchangeListener {

    private static final int HEAD = 0;
    private static final int HEAD_STARTED = 1;
    private static final int IDLE = 2;
    private static final int BODY = 3;
    private static final int NONE = 4;
    private static final int LINGER = 5;
    /** How long at most a connection closing after an early answer still reads the client's upload. */
    static final Duration LINGER_TIME = Duration.ofSeconds(5);

    private final ProxyContext px;
    private final ClientLimits limits;
    private ChannelHandlerContext ctx;
    /** The bytes and back-pressure between this client and its exchange's pod; made once, with the connection. */
    private Relay relay;
    private Exchange current;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(2);
    private Deadlines deadlines;
    /** The connection's one client-side deadline; {@link #phase} says what it guards. */
    private Deadlines.Deadline timer;
    private int phase = NONE;
    /** Whether the client has sent anything yet. */
    private boolean anyBytes;
    /**
     * How long a request of this connection may wait in the queue at most, besides the
     * revision's queue timeout: an HTTP/2 stream's {@code grpc-timeout}; else none.
     */
    private long queueLimitNanos = Long.MAX_VALUE;
    /** See {@link #streamBody()}. */
    private boolean streamed;
    /** This "connection" is one HTTP/2 stream's ({@link H2ClientConnection}). */
    private boolean http2;

    ClientHandler(ProxyContext px, ClientLimits limits) {
        this.px = px;
        this.limits = limits;
    }

    /** The handler to place ahead of the framer. */
    ChannelInboundHandlerAdapter bytesWatch() {
        return new BytesWatch();
    }

    @Override
    public int requestBuffer() {
        return streamed ? 0 : limits.requestBuffer();
    }

    /**
     * The request of this (stream) connection is a gRPC call: its body streams to the pod as it
     * comes, never buffered first (a bidirectional call's client waits for answers before it
     * sends more).
     */
    void streamBody() {
        streamed = true;
    }

    @Override
    public boolean http2() {
        return http2;
    }

    /** This handler serves one HTTP/2 stream (made by {@link H2ClientConnection}). */
    void http2Stream() {
        http2 = true;
    }

    @Override
    public long queueLimitNanos() {
        return queueLimitNanos;
    }

    /** The request of this (stream) connection may wait in the queue {@code nanos} at most. */
    void queueLimit(long nanos) {
        queueLimitNanos = nanos;
    }

    /** The connection turned out to be HTTP/2 before any request: this handler's timer stops. */
    void handOver() {
        setPhase(NONE);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.relay = new Relay(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        deadlines = px.deadlines(ctx.channel().eventLoop());
        setPhase(HEAD);
        ctx.fireChannelActive();
    }

    // ------------------------------------------------------------------ client timeouts

    /** Moves the connection's deadline for {@code p} (or stops it, for {@code NONE}). */
    private void setPhase(int p) {
        phase = p;
        long length = switch (p) {
            case HEAD -> limits.headTimeout().toNanos();
            case IDLE -> limits.idleTimeout().toNanos();
            case BODY -> limits.bodyStallTimeout().toNanos();
            case LINGER -> Math.min(LINGER_TIME.toNanos(), limits.bodyStallTimeout().toNanos());
            default -> 0;
        };
        if (length == 0 || deadlines == null) {
            if (timer != null) {
                timer.cancel();
            }
        } else if (timer == null) {
            timer = deadlines.add(length, this, 0);
        } else {
            deadlines.rearm(timer, length);
        }
    }

    /** Bytes came from the client (before the framer has them). */
    private void bytesArrived() {
        anyBytes = true;
        if (phase == BODY) {
            setPhase(BODY);
        } else if (phase == IDLE) {
            phase = HEAD_STARTED;
        } // LINGER: its deadline does not move (the client may send for LINGER_TIME in all)
    }

    @Override
    public void bodyReadResumed() {
        if (phase == BODY) {
            setPhase(BODY);
        }
    }

    @Override
    public void bodyComplete() {
        if (phase == BODY) {
            setPhase(NONE);
        }
    }

    @Override
    public void expired(int kind) {
        switch (phase) {
            case HEAD -> {
                if (!anyBytes) {
                    px.clientMetrics.clientTimeout(Phase.IDLE);
                    phase = NONE;
                    ctx.close();
                } else if (current == null && ctx.channel().isActive()) {
                    px.clientMetrics.clientTimeout(Phase.HEAD);
                    phase = NONE;
                    ctx.channel().writeAndFlush(Answers.of(HttpResponseStatus.REQUEST_TIMEOUT,
                            Outcome.REQUEST_HEAD_TIMEOUT, "no complete request head within "
                            + Durations.format(limits.headTimeout()) + "\n", false))
                            .addListener(ChannelFutureListener.CLOSE);
                }
            }
            case IDLE, HEAD_STARTED -> {
                px.clientMetrics.clientTimeout(Phase.IDLE);
                phase = NONE;
                ctx.close();
            }
            case LINGER -> {
                phase = NONE;
                ctx.close();
            }
            case BODY -> {
                if (current == null) {
                    // the body of a request already answered (404) stalled: nothing to answer
                    px.clientMetrics.clientTimeout(Phase.BODY);
                    phase = NONE;
                    ctx.close();
                    return;
                }
                if (relay.clientHeld()) {
                    setPhase(BODY); // Sluice holds the body back, not the client
                    return;
                }
                px.clientMetrics.clientTimeout(Phase.BODY);
                phase = NONE;
                current.bodyStalled(limits.bodyStallTimeout());
            }
            default -> {
                // NONE: the exchange's own deadlines apply
            }
        }
    }

    // ------------------------------------------------------------------ requests

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (current != null) {
            if (current.isTunnel() && msg instanceof ByteBuf b) {
                current.onClientBytes(b);
            } else if (msg instanceof RequestBody c && !current.requestComplete() && backlog.isEmpty()) {
                current.onClientContent(c);
            } else {
                // A pipelined request (or more): hold it and stop reading until this one ends.
                backlog.add(msg);
                relay.holdClient();
            }
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (phase == LINGER) {
            ReferenceCountUtil.release(msg); // the rest of an answered upload, or more after it
            return;
        }
        if (msg instanceof RequestHead req) {
            if (req.refused()) {
                req.release();
                setPhase(NONE);
                px.refused.accept(req.errorStatus);
                ctx.channel().writeAndFlush(Answers.of(HttpResponseStatus.valueOf(req.errorStatus),
                        Outcome.MALFORMED_REQUEST, "malformed HTTP request: " + req.error + "\n", false))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            Route route = px.routes().find(req.revision, req.knativeNamespace, req.knativeRevision, req.host);
            if (route == null) {
                ctx.channel().writeAndFlush(Answers.to(req.content(), HttpResponseStatus.NOT_FOUND,
                        Outcome.UNKNOWN_REVISION, px.routes().explainMiss(req.revision, req.knativeNamespace,
                        req.knativeRevision, req.host), req.keepAlive, req.headMethod));
                req.release();
                // A body that follows is read and dropped under the stall rule, then the wait is idle.
                setPhase(req.hasBody ? BODY : IDLE);
                if (!req.keepAlive) {
                    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            if (req.hasBody && requestBuffer() == 0) {
                // A body follows: read no more of it until a pod can take it (else the
                // exchange reads it into its buffer first).
                relay.holdClient();
            }
            setPhase(req.hasBody ? BODY : NONE);
            String owner = null;
            boolean fromReplica = false;
            RouteOwner o = route.owner();
            if (o != null) {
                owner = o.forwardTo();
                // A replica's forward (a client's own header does not count) that reaches a
                // replica that does not own the revision follows the forwarding rule: on to the
                // owner, or served here as the owner's heir or at the hop limit.
                if (req.forwarded && px.forwarding.fromReplica(ctx.channel().remoteAddress())) {
                    fromReplica = true;
                    if (owner != null) {
                        owner = ForwardMarks.next(px.forwarding, route, req.content());
                    }
                    if (owner == null) {
                        px.forwarding.received();
                    }
                }
            }
            Exchange e = new Exchange(this, relay, ctx, px, route, req, owner, fromReplica);
            current = e;
            e.start();
            return;
        }
        if (msg instanceof RequestBody c) {
            // The body of a request answered without a pod (404): read and dropped.
            c.release();
            if (c.error != null) {
                ctx.close();
            } else if (c.last) {
                setPhase(IDLE);
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    /** The exchange answered; serve the next request or close. Called on the event loop. */
    @Override
    public void exchangeDone(Exchange e, boolean keepAlive) {
        if (current != e) {
            return;
        }
        current = null;
        if (!keepAlive) {
            drainBacklog();
            ChannelFuture written = ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
            if (!e.requestComplete() && !e.isTunnel() && !http2) {
                setPhase(NONE);
                phase = LINGER; // from now on what the client sends is dropped; the deadline starts once written
                written.addListener((ChannelFutureListener) this::linger);
            } else {
                written.addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        while (!backlog.isEmpty()) {
            Object next = backlog.peek();
            if (current == null) {
                dispatch(backlog.poll());
            } else if (next instanceof RequestBody c && !current.requestComplete()) {
                backlog.poll();
                current.onClientContent(c);
            } else {
                return; // the new exchange controls reading
            }
        }
        if (current == null) {
            setPhase(IDLE);
            relay.readClient();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (phase == HEAD_STARTED) {
            setPhase(HEAD);
        }
        if (current != null) {
            current.onClientReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.onClientWritabilityChanged();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        setPhase(NONE);
        Exchange e = current;
        current = null;
        if (e != null) {
            e.clientGone();
        }
        drainBacklog();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** First in the pipeline: sees every read before the framer, which holds a partial head back. */
    private final class BytesWatch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            bytesArrived();
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * The answer came before the request's body ended and is written: the connection's sending
     * side is shut (a FIN after the answer), and what the client still sends is read and
     * dropped until it closes or {@code LINGER_TIME} (or the body-stall timeout, if shorter) has
     * passed ({@code LINGER}).
     */
    private void linger(ChannelFuture written) {
        Channel ch = ctx.channel();
        if (!written.isSuccess() || !ch.isActive() || !(ch instanceof DuplexChannel d)) {
            ctx.close();
            return;
        }
        setPhase(LINGER);
        d.shutdownOutput().addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
            }
        });
        relay.readClient();
    }

    private void drainBacklog() {
        for (Object m = backlog.poll(); m != null; m = backlog.poll()) {
            ReferenceCountUtil.release(m);
        }
    }
}
