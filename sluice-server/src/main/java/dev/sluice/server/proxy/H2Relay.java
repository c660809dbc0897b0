package dev.sluice.server.proxy;

import dev.sluice.server.config.ClientLimits;
import dev.sluice.server.metrics.ClientMetrics.Phase;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The HTTP/2 client connection's relay: between Netty's frame codec and its stream multiplexer,
 * it takes the streams it can carry frames to frames ({@link H2RelayStream}) and leaves the rest
 * to the multiplexer, whose child channel per stream carries them the HTTP/1.1 way
 * ({@link H2ClientConnection}). A stream is relayed when its request came whole in its HEADERS
 * (no body: the common GET) or is a gRPC call (its body streamed), routes to an h2c revision
 * served by this replica (no owner elsewhere), has no {@code Expect}, and its field values are
 * clean (no CR, LF or NUL): it then makes no child channel, pipeline, HTTP/1.1 head or pod
 * stream channel. A plain body takes the translated way, which reads it whole first
 * ({@code client.requestBuffer}).
 *
 * <p>How a stream is taken before the multiplexer sees it: the codec announces a new stream
 * (a state event) just before its HEADERS frame. The announcement of a stream that is new (its
 * id above every earlier one) is held back until its HEADERS decide: relayed, both stay here;
 * otherwise both go on to the multiplexer in their order. A relayed stream's later frames (DATA,
 * trailers, a client's RST_STREAM) and events (its close) stay here too, so the multiplexer
 * never meets a stream it did not make.
 *
 * <h2>Implementation notes</h2>
 * One per HTTP/2 client connection, on its event loop only (the relayed streams and their pod
 * connections share it): plain fields. Writes, to the client and to the pods, are flushed once
 * per loop turn ({@link LoopFlusher}).
 */
final class H2Relay extends ChannelInboundHandlerAdapter {

    private static final AsciiString SLUICE_REVISION = AsciiString.cached("sluice-revision");
    private static final AsciiString KNATIVE_NAMESPACE = AsciiString.cached("knative-serving-namespace");
    private static final AsciiString KNATIVE_REVISION = AsciiString.cached("knative-serving-revision");
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
    private static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final AsciiString EXPECT = AsciiString.cached("expect");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString FORWARDED = AsciiString.cached("forwarded");

    private final ProxyContext px;
    private final ClientLimits limits;
    private ChannelHandlerContext ctx;
    private final IntObjectMap<H2RelayStream> streams = new IntObjectHashMap<>();
    /** The highest client stream id announced so far: a higher one is new. */
    private int highestSeen;
    /** A new stream's announcement, held until its HEADERS decide who carries it. */
    private Http2FrameStreamEvent held;
    private LoopFlusher.Target flush;
    private Http2FrameCodec codec;
    private ChannelHandlerContext codecCtx;
    /** This client's address as the forwarding fields name it, made once. */
    private AsciiString clientIp;
    private String forElement;
    /** The {@code forwarded} value made last, and the authority it names. */
    private AsciiString forwarded;
    private AsciiString forwardedFor;

    H2Relay(ProxyContext px, ClientLimits limits) {
        this.px = px;
        this.limits = limits;
    }

    /** {@code client.timeouts.bodyStall}: the longest a relayed call's body may pause while it streams. */
    long bodyStallNanos() {
        return limits.bodyStallTimeout().toNanos();
    }

    /** {@code client.requestBuffer}: the most of a relayed call's body kept for a replay. */
    int requestBuffer() {
        return limits.requestBuffer();
    }

    /** A relayed call's body stalled (counted as the HTTP/1.1 way counts it). */
    void bodyStalled() {
        px.clientMetrics.clientTimeout(Phase.BODY);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        flush = new LoopFlusher.Target(px.pool(ctx.channel().eventLoop()).flusher(), ctx);
        codec = ctx.pipeline().get(Http2FrameCodec.class);
        codecCtx = ctx.pipeline().context(codec);
        SocketAddress a = ctx.channel().remoteAddress();
        String ip = a instanceof InetSocketAddress isa && isa.getAddress() != null
                ? isa.getAddress().getHostAddress() : "unknown";
        clientIp = AsciiString.of(ip);
        forElement = "for=" + (ip.indexOf(':') >= 0 ? "\"[" + ip + "]\"" : ip) + ";proto=http";
    }

    // ------------------------------------------------------------------ from the codec

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e) {
            Http2FrameStream s = e.stream();
            int id = s.id();
            H2RelayStream r = streams.get(id);
            if (r != null) {
                if (e.type() == Http2FrameStreamEvent.Type.State && s.state() == Http2Stream.State.CLOSED) {
                    streams.remove(id);
                    r.clientGone(); // nothing if it was answered
                }
                return;
            }
            if (id > highestSeen && (id & 1) == 1) {
                highestSeen = id;
                if (e.type() == Http2FrameStreamEvent.Type.State && (s.state() == Http2Stream.State.HALF_CLOSED_REMOTE
                        || s.state() == Http2Stream.State.OPEN)) {
                    releaseHeld();
                    held = e;
                    return;
                }
            }
        }
        releaseHeld();
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame f && held != null && held.stream() == f.stream()) {
            Http2FrameStreamEvent e = held;
            held = null;
            if (relayed(f)) {
                return;
            }
            ctx.fireUserEventTriggered(e);
            ctx.fireChannelRead(msg);
            return;
        }
        releaseHeld();
        if (msg instanceof Http2StreamFrame f && f.stream() != null) {
            H2RelayStream r = streams.get(f.stream().id());
            if (r != null) {
                if (msg instanceof Http2DataFrame d) {
                    r.clientData(d); // its own now
                    return;
                }
                if (msg instanceof Http2HeadersFrame h) {
                    r.clientTrailers(h.headers());
                } else if (msg instanceof Http2ResetFrame) {
                    r.clientGone();
                }
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        releaseHeld();
        ctx.fireChannelReadComplete();
    }

    /**
     * A write to a relayed stream failed (the codec names the stream): the stream is gone for
     * the client; the multiplexer would look for a child channel it never made.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e && e.stream() != null) {
            H2RelayStream r = streams.get(e.stream().id());
            if (r != null) {
                r.clientGone();
                return;
            }
        }
        ctx.fireExceptionCaught(cause);
    }

    /** The held announcement goes on to the multiplexer (whatever follows is not its HEADERS). */
    private void releaseHeld() {
        Http2FrameStreamEvent e = held;
        if (e != null) {
            held = null;
            ctx.fireUserEventTriggered(e);
        }
    }

    /** Takes the stream if it can be relayed (see the class comment); says whether it did. */
    private boolean relayed(Http2HeadersFrame f) {
        Http2Headers h = f.headers();
        if (h.path() == null || h.contains(EXPECT) || !Http2ToHttp1Request.fieldsValid(h)) {
            return false;
        }
        CharSequence host = h.authority();
        if (host == null) {
            host = h.get(HOST);
        }
        Route route = px.routes().find(str(h.get(SLUICE_REVISION)), str(h.get(KNATIVE_NAMESPACE)),
                str(h.get(KNATIVE_REVISION)), str(host));
        if (route == null || !route.config().h2c() || route.owner() != null) {
            return false;
        }
        long limit = Long.MAX_VALUE;
        CharSequence type = h.get(CONTENT_TYPE);
        boolean grpc = type != null && Grpc.isCall(type);
        if (!f.isEndStream() && !grpc) {
            return false; // a body to read whole first (client.requestBuffer): the HTTP/1.1 way's
        }
        if (grpc) {
            CharSequence t = h.get(GRPC_TIMEOUT);
            long nanos = t == null ? 0 : Grpc.timeoutNanos(t);
            if (nanos > 0) {
                limit = nanos;
            }
        }
        h.scheme(HTTP);
        forwardingFields(h); // before the classifier reads the fields, as it reads an HTTP/1.1 head for the pod
        H2RelayStream r = new H2RelayStream(this, ctx, px, route, f.stream(), h, f.isEndStream(), limit);
        streams.put(f.stream().id(), r);
        r.start();
        return true;
    }

    private static String str(CharSequence s) {
        return s == null ? null : s.toString();
    }

    /**
     * Appends this client to the request's {@code x-forwarded-for} and {@code forwarded}, as the
     * HTTP/1.1 way does. A client sends the same authority on every stream, so the
     * {@code forwarded} value of the last one is kept and used again while it does.
     */
    private void forwardingFields(Http2Headers h) {
        if (h.get(X_FORWARDED_FOR) == null) {
            h.add(X_FORWARDED_FOR, clientIp);
        } else {
            h.set(X_FORWARDED_FOR, String.join(", ", h.getAll(X_FORWARDED_FOR)) + ", " + clientIp);
        }
        CharSequence host = h.authority();
        if (h.get(FORWARDED) != null) {
            h.set(FORWARDED, String.join(", ", h.getAll(FORWARDED)) + ", " + forwardedElement(host));
            return;
        }
        if (forwarded == null || !AsciiString.contentEquals(host, forwardedFor)) {
            forwardedFor = host == null ? null : AsciiString.of(host);
            forwarded = new AsciiString(forwardedElement(host));
        }
        h.add(FORWARDED, forwarded);
    }

    /** This client's {@code forwarded} element for a request to {@code host} (or none). */
    private String forwardedElement(CharSequence host) {
        if (host == null) {
            return forElement;
        }
        StringBuilder b = new StringBuilder(forElement.length() + host.length() + 9).append(forElement)
                .append(";host=\"");
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\'); // a quoted-string's quoted-pair (RFC 7239 §4)
            }
            b.append(c);
        }
        return b.append('"').toString();
    }

    // ------------------------------------------------------------------ writes

    /** {@code n} bytes of {@code s}'s DATA were taken: the client may send as many again. */
    void consumed(Http2FrameStream s, int n) {
        if (n > 0 && ctx.channel().isActive()) {
            write(new DefaultHttp2WindowUpdateFrame(n).stream(s));
        }
    }

    /** A frame to the client, flushed at the end of this loop turn. */
    void write(Object frame) {
        ctx.write(frame, ctx.voidPromise());
        flush.flushSoon();
    }

    /**
     * HEADERS (a response's head, or its trailers) to the client's stream {@code s}, written by
     * the codec's encoder itself: no frame object, no pass through the pipeline.
     */
    void writeHeaders(Http2FrameStream s, Http2Headers h, boolean end) {
        codec.encoder().writeHeaders(codecCtx, s.id(), h, 0, end, end ? ending(s, codecCtx.voidPromise())
                : codecCtx.voidPromise());
        flush.flushSoon();
    }

    /**
     * The pod's DATA (or, {@code from} null, Sluice's own answer's body) to the client's stream
     * {@code s}, written as {@link #writeHeaders} writes.
     * Its bytes go back to the pod's window now (returns false) when the client's connection and
     * stream can take them, so they leave with this turn's flush; else (returns true) once the
     * connection has written them, so that a client that does not read holds the pod's stream
     * back rather than Sluice's memory.
     */
    boolean writeData(Http2FrameStream s, ByteBuf data, boolean end, H2RelayPod from, int podStream) {
        int n = data.readableBytes();
        Http2Stream st = from == null || n == 0 || !ctx.channel().isWritable() ? null
                : codec.connection().stream(s.id());
        if (from == null || n == 0 || st != null && codec.encoder().flowController().isWritable(st)) {
            codec.encoder().writeData(codecCtx, s.id(), data, 0, end, end ? ending(s, codecCtx.voidPromise())
                    : codecCtx.voidPromise());
            flush.flushSoon();
            return false;
        }
        ChannelPromise written = codecCtx.newPromise();
        written.addListener((ChannelFutureListener) f -> from.consumed(podStream, n));
        codec.encoder().writeData(codecCtx, s.id(), data, 0, end, end ? ending(s, written) : written);
        flush.flushSoon();
        return true;
    }

    /**
     * The promise for the frame that ends the answer on {@code s}: {@code p}, unless the client
     * is still sending its request (a call answered before its body ended); then one that, once
     * the frame has gone out, ends the stream with RST_STREAM {@code NO_ERROR}: the answer is
     * complete and the client may stop sending (RFC 9113 §8.1). Not sooner: a reset drops the
     * answer's frames that still wait for the client's window.
     */
    private ChannelPromise ending(Http2FrameStream s, ChannelPromise p) {
        if (s.state() != Http2Stream.State.OPEN) {
            return p;
        }
        return p.unvoid().addListener(f -> {
            if (f.isSuccess() && s.state() == Http2Stream.State.HALF_CLOSED_LOCAL && ctx.channel().isActive()) {
                write(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR).stream(s));
            }
        });
    }
}
