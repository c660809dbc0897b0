package dev.sluice.server.proxy;

import dev.sluice.core.pod.PodTracker;
import dev.sluice.server.config.Durations;
import dev.sluice.server.metrics.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 request relayed frames to frames ({@link H2Relay}): a client stream that came whole
 * in its HEADERS (no body), or a gRPC call, for an h2c revision, sent as a stream of the pod's relay connection
 * ({@link H2RelayPod}) with the same fields, {@code :scheme http} and the forwarding fields
 * ({@code x-forwarded-for}, {@code forwarded}) appended as the HTTP/1.1 way appends them, and
 * the pod's HEADERS, DATA and trailers written to the client's stream as they come.
 *
 * <p>Everything else is the exchange's rules, kept here for a stream: admission, queue and its
 * timeout ({@link Admission}, with {@code grpc-timeout} bounding the wait), the request and
 * response-start and body-stall timeouts, one answer (Sluice's own as {@link Answers} words it, a gRPC call's
 * as gRPC), the slot released once, the metrics. A client's RST_STREAM or its connection's end
 * cancels a queued stream or resets the pod's stream and frees the slot at once. The pod's
 * reset, GOAWAY or lost connection before its answer: a stream the pod did not process goes
 * again (a call's body from {@link H2BodyCopies}), and so does a bodiless one whose method is
 * safe or that carries an {@code Idempotency-Key}, once ({@link ReplayRule}); otherwise 502;
 * after the answer began, the client's stream is reset. A gRPC call's body is held until the
 * pod is reached, then streamed as it comes.
 *
 * <h2>Implementation notes</h2>
 * A request's one object besides its frames, like {@link Exchange}; on the client connection's
 * event loop only, which is also its pod connection's (see {@link UpstreamPool}). {@link #done}
 * is the single "answered" flag; every event checks it first.
 */
final class H2RelayStream extends Admission {

    private static final Logger LOG = LoggerFactory.getLogger(H2RelayStream.class);
    private static final int TOTAL = 0;
    private static final int RESPONSE_START = 2;
    private static final int BODY_STALL = 3;
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
    private static final AsciiString IDEMPOTENCY_KEY = AsciiString.cached("idempotency-key");
    private static final AsciiString HEAD = AsciiString.cached("HEAD");

    private final H2Relay relay;
    private final Http2FrameStream client;
    private final Http2Headers request;
    private final long startNanos;
    private final long queueLimitNanos;
    /** The request had no body: its HEADERS ended it. */
    private final boolean bodiless;
    /** The client's side of the request has ended (its last DATA or trailers came). */
    private boolean requestComplete;
    /** A gRPC call's body that came before the pod was reached, and its trailers (held, not yet taken). */
    private List<Http2DataFrame> early;
    private Http2Headers trailers;
    /** A call's body as sent, for a replay of a stream the pod did not process (null: none kept). */
    private H2BodyCopies copies;
    private Deadlines.Deadline stallTimer;
    private H2RelayPod podConnection;
    private int podStream;
    private String podAddress;
    private boolean responseStarted;
    private boolean replayed;
    private boolean connectRetried;
    private int status;
    private Deadlines.Deadline totalTimer;
    private Deadlines.Deadline responseStartTimer;

    H2RelayStream(H2Relay relay, ChannelHandlerContext ctx, ProxyContext px, Route route, Http2FrameStream client,
            Http2Headers request, boolean bodiless, long queueLimitNanos) {
        super(ctx, px, route, null, RequestClassifier.classOf(route.config().queueing(), request),
                RequestClassifier.tenantOf(route.config().queueing(), request));
        this.bodiless = bodiless;
        this.requestComplete = bodiless;
        this.copies = bodiless ? null : new H2BodyCopies(relay.requestBuffer());
        this.relay = relay;
        this.client = client;
        this.request = request;
        this.queueLimitNanos = queueLimitNanos;
        this.startNanos = px.clock.nanoTime();
    }

    void start() {
        px.started();
        deadlines = px.deadlines(ctx.channel().eventLoop());
        totalTimer = deadlines.add(config().requestTimeout().toNanos(), this, TOTAL);
        ready(startNanos, queueLimitNanos);
    }

    /** The request's fields as the pod gets them. */
    Http2Headers request() {
        return request;
    }

    /** Whether the request's HEADERS end it. */
    boolean bodiless() {
        return bodiless;
    }

    int podStreamId() {
        return podStream;
    }

    // ------------------------------------------------------------------ admission

    @Override
    void admitted(PodTracker leased) {
        link(leased.address());
    }

    @Override
    void toOwner() {
        throw new IllegalStateException("a relayed stream is served by this replica"); // H2Relay relays no owned route
    }

    @Override
    void refuse(HttpResponseStatus st, Outcome outcome, String why) {
        fail(st, outcome, why);
    }

    private void link(String address) {
        podAddress = address;
        H2RelayPod c = px.pool(ctx.channel().eventLoop()).relayTo(address);
        c.send(this);
        c.flushSoon();
    }

    /** The request's HEADERS are on {@code c}'s stream {@code id}; the body held so far follows them. */
    void opened(H2RelayPod c, int id) {
        podConnection = c;
        podStream = id;
        if (copies != null) {
            copies.resend(c, id); // a replay: what went before goes again first
        }
        List<Http2DataFrame> held = early;
        early = null;
        if (held != null) {
            for (Http2DataFrame d : held) {
                toPod(d);
            }
        }
        if (trailers != null) {
            c.sendTrailers(id, trailers);
            keepTrailers(trailers);
            trailers = null;
        }
        if (requestComplete) {
            startResponseStartTimer();
        } else {
            armStall(); // the body streams from now: the client must keep it coming
        }
    }

    /** The pod's connection could not be made: report the pod, try another once, else 502. */
    void connectFailed(Throwable cause) {
        if (done) {
            return;
        }
        LOG.debug("connect to {} for {} failed: {}", podAddress, config().id(), String.valueOf(cause));
        reportUnreachable(podAddress);
        String failed = podAddress;
        releasePod();
        if (!connectRetried) {
            connectRetried = true;
            admit();
        } else {
            fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR, "could not connect to pod " + failed
                    + " of revision " + config().id() + "\n");
        }
    }

    // ------------------------------------------------------------------ client → pod (a gRPC call's body)

    /** Part of the call's body (this stream's now): held until the pod is reached, then sent as it comes. */
    void clientData(Http2DataFrame d) {
        if (done || requestComplete) {
            relay.consumed(client, d.initialFlowControlledBytes()); // not wanted: the window stays open
            d.release();
            return;
        }
        if (d.isEndStream()) {
            requestComplete = true;
            Exchange.cancel(stallTimer);
        }
        if (podConnection == null) {
            // Held, its window not given back: the client waits, as a held stream's does.
            if (early == null) {
                early = new ArrayList<>(2);
            }
            early.add(d);
            return;
        }
        toPod(d);
        if (requestComplete) {
            startResponseStartTimer();
        } else {
            armStall();
        }
    }

    /** The call's trailers, which end its request. */
    void clientTrailers(Http2Headers h) {
        if (done || requestComplete) {
            return;
        }
        requestComplete = true;
        Exchange.cancel(stallTimer);
        if (podConnection == null) {
            trailers = h;
        } else {
            podConnection.sendTrailers(podStream, h);
            keepTrailers(h);
            podConnection.flushSoon();
            startResponseStartTimer();
        }
    }

    private void keepTrailers(Http2Headers h) {
        if (copies != null) {
            copies.trailers(h);
        }
    }

    /** No replay from now (the answer began, or the exchange ended): the copies go. */
    private void dropCopies() {
        H2BodyCopies c = copies;
        copies = null;
        if (c != null) {
            c.release();
        }
    }

    /** The pod has the whole request: it has the response-start timeout to begin its answer. */
    private void startResponseStartTimer() {
        if (responseStartTimer == null && config().responseStartTimeout().compareTo(config().requestTimeout()) < 0) {
            responseStartTimer = deadlines.add(config().responseStartTimeout().toNanos(), this, RESPONSE_START);
        }
    }

    private void toPod(Http2DataFrame d) {
        if (copies != null && !copies.keep(d.content(), d.isEndStream())) {
            copies = null; // too large to keep: not sent twice
        }
        int n = d.initialFlowControlledBytes();
        Http2FrameStream s = client;
        H2Relay r = relay;
        podConnection.sendData(podStream, d.content(), d.isEndStream(), f -> r.consumed(s, n));
        podConnection.flushSoon();
    }

    private void armStall() {
        long stall = relay.bodyStallNanos();
        if (stallTimer == null) {
            stallTimer = deadlines.add(stall, this, BODY_STALL);
        } else {
            deadlines.rearm(stallTimer, stall);
        }
    }

    // ------------------------------------------------------------------ pod → client

    /** The pod's response HEADERS (or trailers, once it began). */
    void responseHeaders(Http2Headers h, boolean end) {
        if (done) {
            return;
        }
        if (!responseStarted) {
            int code = statusOf(h.status());
            if (code < 100 || code > 599 || code < 200 && end) {
                podConnection.cancel(podStream);
                podConnection = null;
                fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_ERROR, "pod " + podAddress + " of revision "
                        + config().id() + " sent a response Sluice cannot forward: :status "
                        + h.status() + "\n");
                return;
            }
            if (code < 200) {
                return; // informational (100, 103): not passed on
            }
            responseStarted = true;
            dropCopies();
            status = code;
            Exchange.cancel(responseStartTimer);
        }
        relay.writeHeaders(client, h, end);
        if (end) {
            finish();
        }
    }

    /**
     * The pod's DATA: written to the client's stream; returns whether the pod's window gets the
     * bytes back later (once written), not now ({@link H2Relay#writeData}).
     */
    boolean responseData(ByteBuf data, boolean end) {
        if (done || !responseStarted) {
            return false;
        }
        boolean later = relay.writeData(client, data.retain(), end, podConnection, podStream);
        if (end) {
            finish();
        }
        return later;
    }

    /**
     * The pod's stream ended without its answer: reset, GOAWAY, or the connection lost;
     * {@code unprocessed}: the pod says it never acted on it.
     */
    void podLost(boolean unprocessed, String why) {
        if (done) {
            return;
        }
        podConnection = null;
        if (responseStarted) {
            relay.write(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(client));
            end(Outcome.UPSTREAM_ERROR, status);
            releasePod();
            return;
        }
        if (!replayed && (unprocessed && (bodiless || copies != null) || replayable())) {
            replayed = true;
            link(podAddress);
            return;
        }
        fail(HttpResponseStatus.BAD_GATEWAY, Outcome.UPSTREAM_CLOSED, "pod " + podAddress + " of revision "
                + config().id() + " closed the stream before answering" + (why == null ? "" : ": " + why)
                + (replayed ? "" : bodiless ? "; the request may have reached it, and is not sent twice unless its"
                        + " method is safe or it carries an Idempotency-Key" : "; the request may have reached it,"
                        + " and its body, sent as it came, is not sent twice") + "\n");
    }

    private boolean replayable() {
        if (!bodiless) {
            return false; // its body went to the pod as it came: none is kept to send twice
        }
        CharSequence m = request.method();
        return m != null && ReplayRule.safeMethod(m) || request.contains(IDEMPOTENCY_KEY);
    }

    // ------------------------------------------------------------------ client, timers

    /** The client reset the stream, or its connection closed: the queue place or the pod's stream goes at once. */
    void clientGone() {
        if (done) {
            return;
        }
        end(Outcome.CLIENT_CLOSED, 499);
        abortPod();
    }

    @Override
    public void expired(int kind) {
        if (done) {
            return;
        }
        switch (kind) {
            case TOTAL -> fail(HttpResponseStatus.GATEWAY_TIMEOUT, Outcome.REQUEST_TIMEOUT, "revision "
                    + config().id() + " did not answer within " + Durations.format(config().requestTimeout()) + "\n");
            case QUEUE -> queueExpired();
            case BODY_STALL -> {
                if (!requestComplete) {
                    relay.bodyStalled();
                    fail(HttpResponseStatus.REQUEST_TIMEOUT, Outcome.REQUEST_BODY_TIMEOUT, "no byte of the request"
                            + " body came within " + Durations.format(Duration.ofNanos(relay.bodyStallNanos()))
                            + "; its pod's slot was freed\n");
                }
            }
            default -> {
                if (!responseStarted) {
                    fail(HttpResponseStatus.GATEWAY_TIMEOUT, Outcome.RESPONSE_START_TIMEOUT, "pod " + podAddress
                            + " did not start answering within " + Durations.format(config().responseStartTimeout())
                            + "\n");
                }
            }
        }
    }

    // ------------------------------------------------------------------ endings

    private void finish() {
        end(Outcome.PROXIED, status);
        if (!requestComplete && podConnection != null) {
            podConnection.resetAnswered(podStream); // answered whole: the rest of the call's body is not wanted
        }
        podConnection = null;
        releasePod();
    }

    /** Sluice's own answer (or, once the pod's answer began, a reset), and everything released. */
    private void fail(HttpResponseStatus st, Outcome outcome, String why) {
        if (done) {
            return;
        }
        if (responseStarted) {
            relay.write(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(client));
            end(outcome, status);
        } else {
            CharSequence type = request.get(CONTENT_TYPE);
            boolean grpc = type != null && Grpc.isCall(type);
            FullHttpResponse answer = grpc ? Answers.grpc(st, outcome, why, true)
                    : Answers.of(st, outcome, why, true, HEAD.contentEquals(request.method()));
            Http2Headers h = HttpConversionUtil.toHttp2Headers(answer, false);
            ByteBuf body = answer.content();
            boolean empty = !body.isReadable();
            relay.writeHeaders(client, h, empty);
            if (empty) {
                body.release();
            } else {
                relay.writeData(client, body, true, null, 0);
            }
            end(outcome, grpc ? 200 : st.code());
        }
        abortPod();
    }

    private void abortPod() {
        H2RelayPod c = podConnection;
        podConnection = null;
        if (c != null) {
            c.cancel(podStream);
        }
        releasePod();
    }

    private void end(Outcome outcome, int code) {
        done = true;
        dropCopies();
        Exchange.cancel(totalTimer);
        Exchange.cancel(responseStartTimer);
        Exchange.cancel(stallTimer);
        List<Http2DataFrame> held = early;
        early = null;
        if (held != null) {
            for (Http2DataFrame d : held) {
                relay.consumed(client, d.initialFlowControlledBytes());
                d.release();
            }
        }
        cancelAdmission();
        route.metrics().completed(outcome, code, px.clock.nanoTime() - startNanos, true);
        px.ended();
    }

    /** A response's {@code :status} as a number; -1 if it is not three digits. */
    static int statusOf(CharSequence s) {
        if (s == null || s.length() != 3) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + c - '0';
        }
        return v;
    }
}
