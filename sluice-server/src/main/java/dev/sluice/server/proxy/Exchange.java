package dev.sluice.server.proxy;

import dev.sluice.http1.RequestBody;
import dev.sluice.http1.RequestHead;
import dev.sluice.http1.ResponseFramer;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Pending;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.server.config.Durations;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.Outcome;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's way through the proxy: admission, connection to the pod, streaming both ways,
 * and exactly one answer.
 *
 * <h2>Implementation notes</h2>
 * Everything here runs on the client connection's event loop; the throttler may deliver the
 * lease or the rejection on another thread, and {@link #onLease}/{@link #onReject} hop back to
 * the loop before touching any field. {@link #done} is the single "answered" flag: once set,
 * a lease that still arrives is released at once, so no slot or token leaks whichever of
 * client cancel, timeout or lease comes first. The pod lease is released exactly once, in
 * {@link #releasePod()}. Back-pressure: the client's auto-read is off while the request waits
 * and follows the upstream's writability while the body streams; the upstream's auto-read
 * follows the client's writability while the response streams. Neither direction is decoded:
 * the request's head arrives rewritten for the pod ({@link dev.sluice.http1.RequestFramer}) and goes out as it
 * is, and so does its body; the upstream handler's {@link ResponseFramer} hands over the
 * bytes the client gets, which go out with {@code ctx.write} (below the client's response
 * encoder); Sluice's own answers go through {@code ctx.channel().write} and the encoder. A
 * request whose body arrived
 * whole before the pod was reached keeps a copy of it until the response starts, so a pooled
 * connection that turns out to be stale is retried once on a fresh one. The head's bytes are
 * held until the exchange ends, and released in {@link #end}, which runs exactly once.
 */
final class Exchange implements LeaseListener, Deadlines.Expiring, ResponseFramer.Sink {

    private static final int TOTAL = 0;
    private static final int QUEUE = 1;
    private static final int RESPONSE_START = 2;

    private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);

    private final ClientHandler client;
    private final ChannelHandlerContext ctx;
    private final ProxyContext px;
    private final Route route;
    private final RequestHead request;
    private final boolean clientKeepAlive;
    private final long startNanos;
    private final long queueDeadlineNanos;

    /** Body bytes that came before the pod was reached. */
    private final List<ByteBuf> early = new ArrayList<>(2);
    private boolean requestComplete;
    private Pending pending = Pending.NONE;
    private PodTracker pod;
    private String podAddress;
    private UpstreamPool pool;
    private Channel upstream;
    private boolean fromPool;
    private boolean canReplay;
    private boolean staleRetried;
    private boolean connectRetried;
    private boolean responseStarted;
    /** The response's framing ends only at close, or the client asked for close: close it after. */
    private boolean clientMustClose;
    private boolean upstreamKeepAlive;
    private boolean done;
    /** A WebSocket (or other) upgrade was asked for; after the pod's 101 the exchange is a byte tunnel. */
    private final String upgrade;
    private boolean tunnel;
    /** While the client's codec comes out, its leftover bytes wait here (the request encoder must not see them). */
    private List<ByteBuf> switchingToUpstream;
    private int status;
    private Deadlines deadlines;
    private Deadlines.Deadline totalTimer;
    private Deadlines.Deadline queueTimer;
    private Deadlines.Deadline responseStartTimer;

    Exchange(ClientHandler client, ChannelHandlerContext ctx, ProxyContext px, Route route, RequestHead request) {
        this.client = client;
        this.ctx = ctx;
        this.px = px;
        this.route = route;
        this.request = request;
        this.clientKeepAlive = request.keepAlive;
        this.upgrade = request.upgrade;
        this.requestComplete = !request.hasBody;
        this.startNanos = px.clock.nanoTime();
        this.queueDeadlineNanos = startNanos + route.config().queueTimeout().toNanos();
    }

    private RevisionConfig config() {
        return route.config();
    }

    void start() {
        px.started();
        deadlines = px.deadlines(ctx.channel().eventLoop());
        totalTimer = deadlines.add(config().requestTimeout().toNanos(), this, TOTAL);
        admit();
    }

    private void admit() {
        pending = route.throttler().acquire(queueDeadlineNanos, this);
        if (!done && pod == null && pending != Pending.NONE && queueTimer == null) {
            // The length the deadline was set with, so it joins the lane of its peers.
            queueTimer = deadlines.add(queueDeadlineNanos - startNanos, this, QUEUE);
        }
    }

    boolean requestComplete() {
        return requestComplete;
    }

    // ------------------------------------------------------------------ admission outcome

    @Override
    public void onLease(PodTracker leased) {
        if (ctx.executor().inEventLoop()) {
            leased(leased);
        } else {
            ctx.executor().execute(() -> leased(leased));
        }
    }

    @Override
    public void onReject(Rejection reason) {
        if (ctx.executor().inEventLoop()) {
            rejected(reason);
        } else {
            ctx.executor().execute(() -> rejected(reason));
        }
    }

    private void leased(PodTracker leased) {
        if (done) {
            route.throttler().release(leased);
            return;
        }
        pod = leased;
        podAddress = leased.address();
        pending = Pending.NONE;
        cancel(queueTimer);
        route.metrics().queued(px.clock.nanoTime() - startNanos);
        pool = px.pool(ctx.channel().eventLoop());
        Channel ch = pool.poll(podAddress);
        if (ch != null) {
            fromPool = true;
            attach(ch);
        } else {
            connect();
        }
    }

    private void rejected(Rejection reason) {
        if (done) {
            return;
        }
        pending = Pending.NONE;
        HttpResponseStatus st = reason == Rejection.QUEUE_FULL && config().overflowStatus() == 429
                ? HttpResponseStatus.TOO_MANY_REQUESTS : HttpResponseStatus.SERVICE_UNAVAILABLE;
        String why = switch (reason) {
            case QUEUE_FULL -> "the queue of revision " + config().id() + " is full (" + config().queueDepth()
                    + " requests waiting)";
            case QUEUE_TIMEOUT -> "no pod of revision " + config().id() + " became free within "
                    + Durations.format(config().queueTimeout());
            case REVISION_CLOSED -> "revision " + config().id() + " was removed";
            case REVISION_UNAVAILABLE -> "revision " + config().id() + " is unavailable: its control path failed";
            case SHUTTING_DOWN -> "Sluice is shutting down";
        };
        fail(st, Outcome.of(reason), why + "\n");
    }

    // ------------------------------------------------------------------ connecting

    private void connect() {
        fromPool = false;
        ChannelFuture f = pool.connect(podAddress);
        if (f.isDone()) {
            connected(f);
        } else {
            f.addListener(x -> connected(f));
        }
    }

    private void connected(ChannelFuture f) {
        if (done) {
            if (f.isSuccess()) {
                f.channel().close();
            }
            return;
        }
        if (f.isSuccess()) {
            attach(f.channel());
            return;
        }
        // Nothing of the request reached the pod: report it and try another pod once.
        LOG.debug("connect to {} for {} failed: {}", podAddress, config().id(), f.cause().toString());
        try {
            px.control.reportUnreachable(config().id(), pod.podId(), podAddress);
        } catch (IllegalArgumentException revisionGone) {
            // the revision was closed meanwhile; nothing to report to
        }
        String failedAddress = podAddress;
        releasePod();
        if (!connectRetried) {
            connectRetried = true;
            admit();
        } else {
            fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR,
                    "could not connect to pod " + failedAddress + " of revision " + config().id() + "\n");
        }
    }

    private void attach(Channel ch) {
        upstream = ch;
        ch.pipeline().get(UpstreamHandler.class).bind(this, request.headMethod, clientKeepAlive, request.http11, upgrade);
        canReplay = requestComplete;
        // The head stays the exchange's (released in end()): a stale pooled connection is retried with it.
        ch.write(request.content().retainedDuplicate(), ch.voidPromise());
        List<ByteBuf> body = early;
        // Indexed loops: an iterator here was the largest allocation per request.
        for (int i = 0, n = body.size(); i < n; i++) {
            ch.write(canReplay ? body.get(i).retainedDuplicate() : body.get(i), ch.voidPromise());
        }
        if (!canReplay) {
            body.clear();
        }
        ch.flush();
        if (requestComplete) {
            startResponseStartTimer();
        } else {
            ctx.channel().config().setAutoRead(ch.isWritable());
        }
    }

    private void startResponseStartTimer() {
        if (responseStartTimer == null && config().responseStartTimeout().compareTo(config().requestTimeout()) < 0) {
            responseStartTimer = deadlines.add(config().responseStartTimeout().toNanos(), this, RESPONSE_START);
        }
    }

    // ------------------------------------------------------------------ client → pod

    void onClientContent(RequestBody c) {
        if (done) {
            c.release();
            return;
        }
        if (c.error != null) {
            c.release();
            fail(HttpResponseStatus.BAD_REQUEST, Outcome.MALFORMED_REQUEST, "malformed HTTP request body: " + c.error
                    + "\n");
            return;
        }
        boolean last = c.last;
        if (last) {
            requestComplete = true;
        }
        ByteBuf bytes = c.content();
        if (upstream == null) {
            early.add(bytes);
            return;
        }
        upstream.write(bytes, upstream.voidPromise());
        if (last) {
            upstream.flush();
            startResponseStartTimer();
        } else {
            pauseIfUnwritable(upstream, ctx.channel());
        }
    }

    void onClientReadComplete() {
        if (upstream != null && !done) {
            upstream.flush();
        }
    }

    void onUpstreamWritabilityChanged(boolean writable) {
        if (!done && (!requestComplete || tunnel)) {
            ctx.channel().config().setAutoRead(writable);
        }
    }

    // ------------------------------------------------------------------ pod → client

    @Override
    public void responseHead(int code, boolean mustClose) {
        if (done) {
            return;
        }
        responseStarted = true;
        status = code;
        clientMustClose = mustClose;
        cancel(responseStartTimer);
        releaseEarly();
    }

    @Override
    public void clientBytes(ByteBuf bytes) {
        if (done) {
            bytes.release();
            return;
        }
        ctx.write(bytes, ctx.voidPromise());
        pauseIfUnwritable(ctx.channel(), upstream);
    }

    @Override
    public void responseEnd(boolean podReusable) {
        if (done) {
            return;
        }
        upstreamKeepAlive = podReusable;
        finishProxied();
    }

    @Override
    public void malformed(String why) {
        if (done) {
            return;
        }
        LOG.debug("pod {} of {} sent a response that cannot be forwarded: {}", podAddress, config().id(), why);
        fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR, "pod " + podAddress + " of revision "
                + config().id() + " sent a response Sluice cannot forward: " + why + "\n");
    }

    /**
     * After writing to {@code target}: if it cannot take more, stop reading from
     * {@code source} until it can. Flush first: if that drains the buffer no writability event
     * would follow, and a pause would never be undone.
     */
    private static void pauseIfUnwritable(Channel target, Channel source) {
        if (!target.isWritable()) {
            target.flush();
            if (!target.isWritable() && source != null) {
                source.config().setAutoRead(false);
            }
        }
    }

    /**
     * The pod accepted the upgrade (its 101 has gone out to the client): take the HTTP codecs
     * out and relay bytes until either side closes. The pod's slot stays held for the
     * connection's whole life; the request deadline no longer applies.
     */
    @Override
    public void switched() {
        if (done) {
            return;
        }
        tunnel = true;
        responseStarted = true;
        status = 101;
        cancel(totalTimer);
        cancel(responseStartTimer);
        releaseEarly();
        ctx.flush();
        switchingToUpstream = new ArrayList<>(1);
        ctx.pipeline().remove("encoder");
        ctx.pipeline().remove("decoder"); // leftover client bytes land in switchingToUpstream
        List<ByteBuf> toUpstream = switchingToUpstream;
        switchingToUpstream = null;
        toUpstream.forEach(upstream::write);
        upstream.flush();
        ctx.channel().config().setAutoRead(true);
        upstream.config().setAutoRead(true);
    }

    /** Bytes from the client once the exchange is a tunnel. */
    void onClientBytes(ByteBuf b) {
        if (done || upstream == null) {
            b.release();
            return;
        }
        if (switchingToUpstream != null) {
            switchingToUpstream.add(b);
            return;
        }
        upstream.write(b, upstream.voidPromise());
        pauseIfUnwritable(upstream, ctx.channel());
    }

    boolean isTunnel() {
        return tunnel;
    }

    void onUpstreamReadComplete() {
        if (!done) {
            ctx.flush();
        }
    }

    void onClientWritabilityChanged() {
        if (!done && upstream != null) {
            upstream.config().setAutoRead(ctx.channel().isWritable());
        }
    }

    /** The upstream connection closed or failed before the response ended. */
    void onUpstreamClosed(Throwable cause) {
        if (done) {
            return;
        }
        Channel dead = upstream;
        upstream = null;
        if (dead != null) {
            dead.pipeline().get(UpstreamHandler.class).unbind();
        }
        if (tunnel) {
            end(Outcome.PROXIED, 101);
            releasePod();
            ctx.close();
            client.exchangeDone(this, false);
            return;
        }
        if (!responseStarted && fromPool && canReplay && !staleRetried) {
            // A kept-alive connection the pod had already closed: nothing was processed.
            staleRetried = true;
            connect();
            return;
        }
        if (!responseStarted) {
            fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR, "pod " + podAddress + " of revision "
                    + config().id() + " closed the connection before answering"
                    + (cause == null ? "" : ": " + cause.getMessage()) + "\n");
        } else {
            fail(null, Outcome.UPSTREAM_ERROR, null);
        }
    }

    // ------------------------------------------------------------------ timers and cancellation

    @Override
    public void expired(int kind) {
        switch (kind) {
            case TOTAL -> onTotalTimeout();
            case QUEUE -> onQueueTimeout();
            default -> onResponseStartTimeout();
        }
    }

    private void onQueueTimeout() {
        if (done || pod != null) {
            return;
        }
        if (pending.cancel()) {
            pending = Pending.NONE;
            rejected(Rejection.QUEUE_TIMEOUT);
        }
        // else: the lease or a rejection is already on its way and will answer
    }

    private void onTotalTimeout() {
        if (done) {
            return;
        }
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, Outcome.REQUEST_TIMEOUT, "revision " + config().id()
                + " did not answer within " + Durations.format(config().requestTimeout()) + "\n");
    }

    private void onResponseStartTimeout() {
        if (done || responseStarted) {
            return;
        }
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, Outcome.RESPONSE_START_TIMEOUT, "pod " + podAddress
                + " did not start answering within " + Durations.format(config().responseStartTimeout()) + "\n");
    }

    /** The client connection closed. */
    void clientGone() {
        if (done) {
            return;
        }
        end(tunnel ? Outcome.PROXIED : Outcome.CLIENT_CLOSED, tunnel ? 101 : 499);
        abortUpstream();
    }

    // ------------------------------------------------------------------ endings

    private void finishProxied() {
        end(Outcome.PROXIED, status);
        Channel up = upstream;
        upstream = null;
        up.pipeline().get(UpstreamHandler.class).unbind();
        if (requestComplete && upstreamKeepAlive) {
            up.config().setAutoRead(true);
            pool.offer(podAddress, up);
        } else {
            up.close();
        }
        // The pod is free before the answer's system call: a waiter handed this slot on this
        // loop sends its request first, so the pod's idle gap does not include our flush.
        releasePod();
        ctx.flush();
        client.exchangeDone(this, clientKeepAlive && requestComplete && !clientMustClose);
    }

    /**
     * Answers with {@code st} (or, once the response has started, closes the client
     * connection, the only honest signal left) and releases everything.
     */
    private void fail(HttpResponseStatus st, Outcome outcome, String body) {
        if (done) {
            return;
        }
        boolean answered = !responseStarted && st != null;
        end(outcome, answered ? st.code() : status);
        abortUpstream();
        if (answered) {
            boolean keep = clientKeepAlive && requestComplete;
            ctx.channel().writeAndFlush(Answers.of(st, outcome, body, keep, request.headMethod));
            client.exchangeDone(this, keep);
        } else {
            ctx.close();
            client.exchangeDone(this, false);
        }
    }

    /** Marks the exchange answered, exactly once. */
    private void end(Outcome outcome, int code) {
        done = true;
        cancel(totalTimer);
        cancel(queueTimer);
        cancel(responseStartTimer);
        releaseEarly();
        if (pending != Pending.NONE) {
            pending.cancel(); // if it returns false, the lease arriving later is released in leased()
            pending = Pending.NONE;
        }
        request.release();
        route.metrics().completed(outcome, code, px.clock.nanoTime() - startNanos);
        px.ended();
    }

    private void abortUpstream() {
        Channel up = upstream;
        upstream = null;
        if (up != null) {
            up.pipeline().get(UpstreamHandler.class).unbind();
            up.close();
        }
        releasePod();
    }

    private void releasePod() {
        PodTracker p = pod;
        if (p != null) {
            pod = null;
            route.throttler().release(p);
        }
    }

    private void releaseEarly() {
        List<ByteBuf> e = early;
        if (!e.isEmpty()) {
            for (int i = 0, n = e.size(); i < n; i++) {
                e.get(i).release();
            }
            e.clear();
        }
        canReplay = false;
    }

    private static void cancel(Deadlines.Deadline d) {
        if (d != null) {
            d.cancel();
        }
    }
}
