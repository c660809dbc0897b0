package dev.sluice.server.proxy;

import dev.sluice.http1.RequestBody;
import dev.sluice.http1.RequestFramer;
import dev.sluice.http1.RequestHead;
import dev.sluice.http1.ResponseFramer;
import dev.sluice.server.config.Durations;
import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's way through the proxy, after its head: admission ({@link Admission}), the
 * connection to the pod ({@link PodLink}), then here the request's events both ways, its
 * deadlines, and exactly one answer. The bytes themselves, and when each side is read, are
 * the connection's {@link Relay}'s; the exchange tells it what state the request is in.
 *
 * <h2>Implementation notes</h2>
 * Everything here runs on the client connection's event loop (see {@link Admission} for the
 * lease's hop back to it). {@link #done} is the single "answered" flag, set in {@link #end},
 * which runs exactly once; every event checks it first. A body up to the client's request
 * buffer is read whole before the request queues (the queue clock starts when it is whole); a
 * larger one is read up to that size and then held back like any other (the relay holds
 * it). Neither direction is decoded: the request's head arrives rewritten for the pod
 * ({@link RequestFramer}) and goes out as it is, and so does its body; the
 * upstream handler's {@link ResponseFramer} hands over the bytes the client gets.
 *
 * <p>The arrows point one way: the connection ({@link ClientHandler}) makes the exchange and
 * feeds it the client's events; the exchange reports its end through the
 * {@link ExchangeListener} it is given, and hears the pod's connection as that connection's
 * {@link UpstreamHandler.Listener}. No object is made for either: the connection and the
 * exchange are the listeners.
 *
 * <p>The head's bytes are held until the exchange ends, and released in {@link #end}.
 *
 * <p>One exchange outlives its answer: a client that left once the pod had its whole request
 * ({@link #clientGone}) leaves the exchange done but {@link #orphaned}, still the pod
 * connection's listener, holding the lease until the pod's answer ends (dropped), the pod
 * closes, or the total timer fires; each of those ends it once ({@link #orphanEnds}).
 */
final class Exchange extends PodLink {

    private static final int TOTAL = 0;
    private static final int RESPONSE_START = 2;

    private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);
    private static final byte[] EXPECT = HeadBytes.key("Expect");
    private static final byte[] CONTINUE_VALUE = "100-continue".getBytes(StandardCharsets.US_ASCII);
    private static final ByteBuf CONTINUE = Unpooled.unreleasableBuffer(Unpooled
            .directBuffer(25).writeBytes("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));

    private final boolean clientKeepAlive;
    private final long startNanos;
    /** Reading the body into the relay before the request queues ({@link ExchangeListener#requestBuffer()}). */
    private boolean buffering;
    private boolean responseStarted;
    /** The response's framing ends only at close, or the client asked for close: close it after. */
    private boolean clientMustClose;
    private boolean upstreamKeepAlive;
    /** After the pod's 101 (a WebSocket or other upgrade) the exchange is a byte tunnel. */
    private boolean tunnel;
    /**
     * The client left after its whole request reached the pod: the exchange is answered (done)
     * but keeps the pod's slot until the pod answers or closes ({@link #clientGone}).
     */
    private boolean orphaned;
    private int status;
    private Deadlines.Deadline totalTimer;
    private Deadlines.Deadline responseStartTimer;

    Exchange(ExchangeListener client, Relay relay, ChannelHandlerContext ctx, ProxyContext px, Route route,
            RequestHead request, String owner, boolean fromReplica) {
        super(client, relay, ctx, px, route, request, owner, fromReplica);
        this.clientKeepAlive = request.keepAlive;
        this.startNanos = px.clock.nanoTime();
    }

    void start() {
        px.started();
        deadlines = px.deadlines(ctx.channel().eventLoop());
        totalTimer = deadlines.add(config().requestTimeout().toNanos(), this, TOTAL);
        if (!requestComplete && client.requestBuffer() > 0) {
            // Read the body first (up to the buffer's size), so a slow upload holds no pod slot.
            buffering = true;
            if (request.http11 && HeadBytes.matches(request.content(), HeadBytes.valueOf(request.content(), EXPECT),
                    CONTINUE_VALUE, true)) {
                // The client waits for a 100 before it sends the body, and no pod will send one
                // until it has the request: Sluice says it (the pod may say it again: RFC 9110
                // §15.2 lets a client see several 1xx).
                ctx.writeAndFlush(CONTINUE.duplicate(), ctx.voidPromise());
            }
            relay.readClient();
            return;
        }
        ready(startNanos, client.queueLimitNanos());
    }

    boolean requestComplete() {
        return requestComplete;
    }

    // ------------------------------------------------------------------ from admission and the pod link

    @Override
    void refuse(HttpResponseStatus st, Outcome outcome, String why) {
        fail(st, outcome, why);
    }

    @Override
    void sent() {
        if (requestComplete) {
            startResponseStartTimer();
        } else {
            relay.bodyStreams();
            client.bodyReadResumed();
        }
    }

    private void startResponseStartTimer() {
        // A forward waits in its owner's queue: the owner keeps that timer, not the sender.
        if (owner == null && responseStartTimer == null && config().responseStartTimeout().compareTo(config().requestTimeout()) < 0) {
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
            client.bodyComplete();
        }
        ByteBuf bytes = c.content();
        if (!attached) {
            int held = relay.holdEarly(bytes);
            if (buffering && (last || held >= client.requestBuffer())) {
                // Whole, or too large to hold: queue now; the rest streams once a pod is reached.
                buffering = false;
                if (!last) {
                    relay.holdClient();
                }
                ready(px.clock.nanoTime(), client.queueLimitNanos());
            }
            return;
        }
        relay.toPod(bytes, last);
        if (last) {
            startResponseStartTimer();
        }
    }

    void onClientReadComplete() {
        if (!done) {
            relay.flushPod();
        }
    }

    @Override
    public void podWritabilityChanged(boolean writable) {
        if (!done && relay.podWritabilityChanged(writable, !requestComplete || tunnel) && !tunnel) {
            client.bodyReadResumed();
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
            bytes.release(); // also an orphaned request's answer: nobody to send it to
            return;
        }
        relay.toClient(bytes);
    }

    @Override
    public void responseEnd(boolean podReusable) {
        if (done) {
            orphanEnds();
            return;
        }
        upstreamKeepAlive = podReusable;
        finishProxied();
    }

    @Override
    public void malformed(String why) {
        if (done) {
            orphanEnds();
            return;
        }
        LOG.debug("pod {} of {} sent a response that cannot be forwarded: {}", podAddress, config().id(), why);
        fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR, "pod " + podAddress + " of revision "
                + config().id() + " sent a response Sluice cannot forward: " + why + "\n");
    }

    /**
     * The pod accepted the upgrade (its 101 has gone out to the client): take the HTTP codecs
     * out and relay bytes until either side closes. The pod's slot stays held for the
     * connection's whole life; the request deadline no longer applies.
     */
    @Override
    public void switched() {
        if (done) {
            orphanEnds();
            return;
        }
        tunnel = true;
        responseStarted = true;
        status = 101;
        cancel(totalTimer);
        cancel(responseStartTimer);
        releaseEarly();
        relay.openTunnel();
    }

    /** Bytes from the client once the exchange is a tunnel. */
    void onClientBytes(ByteBuf b) {
        if (done || !attached) {
            b.release();
            return;
        }
        relay.tunnelToPod(b);
    }

    boolean isTunnel() {
        return tunnel;
    }

    @Override
    public void podReadComplete() {
        if (!done) {
            relay.flushClient();
        }
    }

    void onClientWritabilityChanged() {
        if (!done && attached) {
            relay.clientWritabilityChanged();
        }
    }

    /** The upstream connection closed or failed before the response ended. */
    @Override
    public void podClosed(Throwable cause) {
        if (done) {
            if (orphaned) {
                podConnectionGone();
                orphanEnds();
            }
            return;
        }
        podConnectionGone();
        if (tunnel) {
            end(Outcome.PROXIED, 101);
            releasePod();
            ctx.close();
            client.exchangeDone(this, false);
            return;
        }
        if (!responseStarted && replayed(cause)) {
            return;
        }
        if (!responseStarted) {
            fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_CLOSED, closedUnanswered(cause));
        } else {
            fail(null, Outcome.UPSTREAM_ERROR, null);
        }
    }

    // ------------------------------------------------------------------ timers and cancellation

    @Override
    public void expired(int kind) {
        switch (kind) {
            case TOTAL -> onTotalTimeout();
            case QUEUE -> queueExpired();
            default -> onResponseStartTimeout();
        }
    }

    private void onTotalTimeout() {
        if (done) {
            orphanEnds(); // the pod had the request's whole time: stop waiting for it
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

    /**
     * No byte of the body came for {@code stall} while Sluice read it: 408 (or a close, once
     * the answer began); the pod connection is closed and the slot freed at once.
     */
    void bodyStalled(Duration stall) {
        fail(HttpResponseStatus.REQUEST_TIMEOUT, Outcome.REQUEST_BODY_TIMEOUT, "no byte of the request body came"
                + " within " + Durations.format(stall) + (pod == null ? "" : "; its pod's slot was freed") + "\n");
    }

    /**
     * The client connection closed. One rule for every client, a replica's forward included:
     * if the pod has the whole request (so it may be working on it), its slot stays taken until
     * the pod answers (the answer is read and dropped) or closes, or the request's time runs
     * out; the pod's connection is half-closed, so a pod that stops work when its client goes
     * away (an EOF on its read side) closes and frees the slot at once. A pod that does not
     * notice keeps working, and no second request reaches it meanwhile. Otherwise (a request not
     * yet whole, not yet sent, a tunnel, an h2c stream, which is reset) the pod's connection is
     * closed and the slot freed now.
     */
    void clientGone() {
        if (done) {
            return;
        }
        orphaned = pod != null && attached && requestComplete && !tunnel && relay.podOutputCanShutdown();
        end(tunnel ? Outcome.PROXIED : Outcome.CLIENT_CLOSED, tunnel ? 101 : 499);
        if (orphaned) {
            relay.orphan();
        } else {
            abortPod();
        }
    }

    /** An orphaned request's pod answered, closed, or ran out of time: its connection closed, its slot freed. */
    private void orphanEnds() {
        if (orphaned) {
            orphaned = false;
            cancel(totalTimer);
            abortPod();
        }
    }

    // ------------------------------------------------------------------ endings

    private void finishProxied() {
        end(Outcome.PROXIED, status);
        givePodBack(requestComplete && upstreamKeepAlive);
        // The pod is free before the answer's system call: a waiter handed this slot on this
        // loop sends its request first, so the pod's idle gap does not include our flush.
        releasePod();
        relay.flushClient();
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
        boolean keep = clientKeepAlive && requestComplete;
        // Made before end() releases the head it reads (a gRPC call is answered as gRPC).
        FullHttpResponse answer = answered ? Answers.to(request.content(), st, outcome, body, keep,
                request.headMethod) : null;
        end(outcome, answered ? st.code() : status);
        abortPod();
        if (answered) {
            ctx.channel().writeAndFlush(answer);
            client.exchangeDone(this, keep);
        } else {
            ctx.close();
            client.exchangeDone(this, false);
        }
    }

    /** Marks the exchange answered, exactly once. */
    private void end(Outcome outcome, int code) {
        done = true;
        if (!orphaned) {
            cancel(totalTimer); // an orphaned request's pod is waited for no longer than its time
        }
        cancelAdmission();
        cancel(responseStartTimer);
        releaseEarly();
        request.release();
        if (owner == null) {
            route.metrics().completed(outcome, code, px.clock.nanoTime() - startNanos,
                    client.http2());
        } else {
            // The owner counts the request as its revision's; here it is a forward.
            px.forwarding.forwarded(owner, outcome, code);
        }
        px.ended();
    }

    static void cancel(Deadlines.Deadline d) {
        if (d != null) {
            d.cancel();
        }
    }
}
