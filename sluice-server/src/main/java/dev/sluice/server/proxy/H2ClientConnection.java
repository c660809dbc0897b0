package dev.sluice.server.proxy;

import dev.sluice.server.config.ClientLimits;
import dev.sluice.server.metrics.ClientMetrics.Phase;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * A client connection that opened with the HTTP/2 preface (h2c with prior knowledge): its
 * HTTP/1.1 handlers are replaced by Netty's HTTP/2 frame codec and multiplexer, and each
 * stream becomes a child channel whose pipeline is the HTTP/1.1 one behind an adapter:
 *
 * <pre>
 * stream channel: Http1ToHttp2Response | Http2ToHttp1Request → BytesWatch → RequestDecoder → ClientHandler
 * </pre>
 *
 * {@link Http2ToHttp1Request} writes the stream's HEADERS and DATA as the HTTP/1.1 request
 * they mean, and {@link Http1ToHttp2Response} turns the HTTP/1.1 answer (a pod's framed bytes,
 * or Sluice's own) back into HEADERS, DATA and trailers. Everything between (routing, the
 * throttler's admission and queue, deadlines, the pod connection, the replay rule) is the
 * HTTP/1.1 request's way, unchanged: a stream is one request. A stream's child channel reads
 * like a connection: {@link Relay} holding it back stops its flow-control window (the client
 * waits), and a client's RST_STREAM or the connection's end closes the child channel, which
 * ends its exchange as a client that left (the queue place cancelled, or the pod's connection
 * closed and the slot freed at once).
 *
 * <h2>Implementation notes</h2>
 * One per client connection, made only when the preface came ({@link PrefaceSniffer}); used
 * on the connection's event loop (the stream channels share it, so the pod side of each
 * stream runs on the same loop as for HTTP/1.1).
 */
final class H2ClientConnection {

    /** The streams one client may have open at once (the queue, not this, bounds what waits). */
    static final int MAX_CONCURRENT_STREAMS = 1000;

    private final ProxyContext px;
    private final ClientLimits limits;

    H2ClientConnection(ProxyContext px, ClientLimits limits) {
        this.px = px;
        this.limits = limits;
    }

    /** Replaces the connection's HTTP/1.1 handlers, which have seen nothing yet, by HTTP/2's after {@code at}. */
    void install(ChannelHandlerContext at) {
        ChannelPipeline p = at.pipeline();
        ClientHandler h1 = p.get(ClientHandler.class);
        if (h1 != null) {
            h1.handOver();
            p.remove(h1);
        }
        p.remove(ProxyServer.BYTES);
        p.remove(RequestDecoder.class);
        p.remove(HttpResponseEncoder.class);
        Http2FrameCodec codec = H2Connections.clientCodec(Http2Settings.defaultSettings()
                .maxConcurrentStreams(MAX_CONCURRENT_STREAMS));
        // client.timeouts.idle, for the connection: no frame from the client for that long and no
        // stream open, and it is closed (as a kept-alive HTTP/1.1 connection would be). Reads
        // only: with no stream open Sluice writes nothing but control frames, and a handler
        // that watched writes too would put a promise and a listener on every frame written.
        long idle = limits.idleTimeout().toNanos();
        p.addAfter(at.name(), "h2idle", new IdleStateHandler(idle, 0, 0, TimeUnit.NANOSECONDS));
        p.addAfter("h2idle", "h2", codec);
        px.http2Client(at.channel());
        p.addAfter("h2", "relay", new H2Relay(px, limits));
        p.addAfter("relay", "streams", new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel stream) {
                ClientHandler client = new ClientHandler(px, limits);
                client.http2Stream();
                Http1ToHttp2Response response = new Http1ToHttp2Response();
                stream.pipeline().addLast(response, new Http2ToHttp1Request(client, response), client.bytesWatch(),
                        new RequestDecoder(), client);
            }
        }));
        p.addAfter("streams", "h2close", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg); // the connection's own frames (SETTINGS, PING…): the codec acted on them
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof IdleStateEvent && codec.connection().numActiveStreams() == 0) {
                    px.clientMetrics.clientTimeout(Phase.IDLE);
                    ctx.close();
                    return;
                }
                ReferenceCountUtil.release(evt);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        });
    }
}
