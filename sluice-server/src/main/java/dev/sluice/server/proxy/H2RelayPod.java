package dev.sluice.server.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2EventAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.WriterChains;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP/2 connection to an h2c pod for {@link H2RelayStream}s: Netty's connection handler
 * with this class as its frame listener, and the pod's streams in a map of Sluice's own (stream
 * id to the relayed stream), so a request costs a HEADERS frame written and the pod's frames
 * handed on, with no channel, pipeline or frame object per stream.
 *
 * <p>Streams open only once the pod's SETTINGS came (its {@code SETTINGS_MAX_CONCURRENT_STREAMS}
 * known); past that limit the encoder holds a stream until one ends
 * ({@code encoderEnforceMaxConcurrentStreams}), while the throttler keeps the pod's streams at or
 * under its containerConcurrency. The pod's DATA is handed back to its flow-control window only
 * once the client's connection has written it, so a slow client slows the pod's stream rather
 * than filling Sluice's memory. A pod's GOAWAY retires the connection (new streams go on a new
 * one); streams above its last stream id, a {@code REFUSED_STREAM}, and streams never written
 * before the connection closed were not processed, and may go again (RFC 9113 §8.7). Writes are
 * flushed once per loop turn ({@link LoopFlusher}).
 *
 * <h2>Implementation notes</h2>
 * Made and used by one event loop's {@link H2RelayPods} (the client connections whose streams
 * it carries share that loop): plain fields, no lock. The stream map holds a stream from the
 * write of its HEADERS until the pod ends, resets or loses it; each way out removes it first,
 * so the stream hears of its end once.
 */
final class H2RelayPod extends Http2EventAdapter {

    private final H2RelayPods owner;
    final String address;
    private Channel channel;
    private ChannelHandlerContext ctx;
    private Http2ConnectionHandler handler;
    /** The pod's SETTINGS came: streams may open. */
    private boolean ready;
    /** No new stream goes on this connection (GOAWAY, closed, or out of stream ids). */
    private boolean retired;
    private final IntObjectMap<H2RelayStream> streams = new IntObjectHashMap<>();
    /** Streams that came before the connection was ready. */
    private List<H2RelayStream> waiting = new ArrayList<>(4);
    private final LoopFlusher flusher;
    private LoopFlusher.Target flush;

    H2RelayPod(H2RelayPods owner, String address, LoopFlusher flusher) {
        this.owner = owner;
        this.address = address;
        this.flusher = flusher;
    }

    void connect(Bootstrap base, InetSocketAddress to) {
        ChannelFuture f = base.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                handler = WriterChains.build(new Http2ConnectionHandlerBuilder()
                        .frameListener(H2RelayPod.this)
                        .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)),
                        H2Connections.uniform(false), H2Connections.writer(), true);
                handler.connection().addListener(H2RelayPod.this);
                ch.pipeline().addLast(new Watch(), handler, new Tail());
                ctx = ch.pipeline().context(handler);
            }
        }).connect(to);
        channel = f.channel();
        flush = new LoopFlusher.Target(flusher, channel);
        f.addListener(x -> {
            if (!x.isSuccess()) {
                failWaiting(x.cause());
            }
        });
    }

    boolean retired() {
        return retired;
    }

    /** Opens a stream for {@code s} (once the connection is ready) and writes its request's HEADERS. */
    void send(H2RelayStream s) {
        if (!ready) {
            waiting.add(s);
            return;
        }
        int id = handler.connection().local().incrementAndGetNextStreamId();
        if (id < 0) {
            retire(); // out of stream ids: the stream goes on a new connection
            s.podLost(true, null);
            return;
        }
        streams.put(id, s);
        handler.encoder().writeHeaders(ctx, id, s.request(), 0, s.bodiless(), ctx.voidPromise());
        s.opened(this, id);
    }

    /**
     * Part of stream {@code id}'s request body; {@code taken} runs once the connection has
     * written it (or failed to), so the client's window opens as the pod's takes the bytes.
     */
    void sendData(int id, ByteBuf data, boolean end, ChannelFutureListener taken) {
        handler.encoder().writeData(ctx, id, data, 0, end, ctx.newPromise().addListener(taken));
    }

    /** The request's trailers: its end. */
    void sendTrailers(int id, Http2Headers trailers) {
        handler.encoder().writeHeaders(ctx, id, trailers, 0, true, ctx.voidPromise());
    }

    /** The pod answered stream {@code id} whole while its request still streams: the rest is not wanted. */
    void resetAnswered(int id) {
        if (channel.isActive()) {
            handler.encoder().writeRstStream(ctx, id, Http2Error.CANCEL.code(), ctx.voidPromise());
            flush.flushSoon();
        }
    }

    /** Flushes the connection at the end of this loop turn. */
    void flushSoon() {
        flush.flushSoon();
    }

    /** The stream {@code id} is no longer wanted (its client left, or Sluice answered): reset it. */
    void cancel(int id) {
        if (streams.remove(id) != null && channel.isActive()) {
            handler.encoder().writeRstStream(ctx, id, Http2Error.CANCEL.code(), ctx.voidPromise());
            flush.flushSoon();
        }
    }

    /** {@code n} bytes of stream {@code id}'s DATA were written to the client: the pod may send as many again. */
    void consumed(int id, int n) {
        Http2Stream st = handler.connection().stream(id);
        if (st == null) {
            return; // closed: its unconsumed bytes went back to the connection's window then
        }
        try {
            if (handler.decoder().flowController().consumeBytes(st, n)) {
                flush.flushSoon();
            }
        } catch (Http2Exception e) {
            channel.close();
        }
    }

    // ------------------------------------------------------------------ the pod's frames

    @Override
    public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
        if (ready) {
            return;
        }
        ready = true;
        List<H2RelayStream> w = waiting;
        waiting = null;
        for (int i = 0, n = w.size(); i < n; i++) {
            if (retired) {
                w.get(i).podLost(true, null);
            } else {
                send(w.get(i));
            }
        }
        flush.flushSoon();
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endOfStream) {
        onHeadersRead(c, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
            boolean endOfStream) {
        H2RelayStream s = endOfStream ? streams.remove(streamId) : streams.get(streamId);
        if (s != null) {
            s.responseHeaders(headers, endOfStream);
        }
    }

    @Override
    public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        H2RelayStream s = endOfStream ? streams.remove(streamId) : streams.get(streamId);
        if (s == null || !s.responseData(data, endOfStream)) {
            return data.readableBytes() + padding; // nobody to give it to: consumed now
        }
        return padding; // the data itself once the client's connection has written it (consumed)
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
        H2RelayStream s = streams.remove(streamId);
        if (s != null) {
            s.podLost(errorCode == Http2Error.REFUSED_STREAM.code(), "the pod reset the stream ("
                    + errorName(errorCode) + ")");
        }
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
        retire();
        List<H2RelayStream> unprocessed = new ArrayList<>();
        for (IntObjectMap.PrimitiveEntry<H2RelayStream> e : streams.entries()) {
            if (e.key() > lastStreamId) {
                unprocessed.add(e.value());
            }
        }
        for (H2RelayStream s : unprocessed) {
            streams.remove(s.podStreamId());
            s.podLost(true, "the pod sent GOAWAY (" + errorName(errorCode) + ") before processing it");
        }
    }

    /** A stream the pod closed without ending its answer (its connection's close included). */
    @Override
    public void onStreamClosed(Http2Stream stream) {
        H2RelayStream s = streams.remove(stream.id());
        if (s != null) {
            s.podLost(false, null);
        }
    }

    private static String errorName(long code) {
        Http2Error e = Http2Error.valueOf(code);
        return e == null ? "error " + code : e.name();
    }

    private void retire() {
        if (!retired) {
            retired = true;
            owner.retired(this);
        }
    }

    private void failWaiting(Throwable cause) {
        retire();
        List<H2RelayStream> w = waiting;
        waiting = new ArrayList<>(0);
        if (w != null) {
            for (int i = 0, n = w.size(); i < n; i++) {
                w.get(i).connectFailed(cause);
            }
        }
    }

    /** Before the connection handler: the connection's end. */
    private final class Watch extends ChannelInboundHandlerAdapter {
        @Override
        public void channelInactive(ChannelHandlerContext c) {
            retire();
            if (!ready) {
                failWaiting(new IllegalStateException("the pod closed the connection before its SETTINGS"));
            }
            List<H2RelayStream> left = new ArrayList<>(streams.values());
            streams.clear();
            for (H2RelayStream s : left) {
                s.podLost(false, null);
            }
            c.fireChannelInactive();
        }
    }

    /** Last: what the connection handler passes on (an I/O error) closes the connection. */
    private static final class Tail extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            c.close();
        }
    }
}
