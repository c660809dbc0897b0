package dev.sluice.server.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.HashMap;
import java.util.Map;

/**
 * The HTTP/2 connections of one event loop to h2c pods: one per pod, every request a stream
 * on it. A stream channel's pipeline makes it look like an HTTP/1.1 pod connection to the rest
 * of the proxy ({@link Http1ToHttp2Request} out, {@link Http2ToHttp1Response} in, then the
 * same {@link UpstreamHandler}), so the exchange, the relay and the replay rule are the
 * HTTP/1.1 ones; a stream is never pooled (it ends with its request).
 *
 * <p>How many streams a pod gets at once is the throttler's: never more than its
 * containerConcurrency. A pod that allows fewer ({@code SETTINGS_MAX_CONCURRENT_STREAMS}) gets
 * no more than it allows either: the codec holds the streams past its limit until one ends
 * ({@code encoderEnforceMaxConcurrentStreams}). A pod's GOAWAY retires its connection: streams
 * already on it finish, new ones go on a new connection, and those it refused unprocessed may
 * be sent again ({@link Http2ToHttp1Response#UNPROCESSED}).
 *
 * <h2>Implementation notes</h2>
 * Like {@link UpstreamPool}, which owns it, used by its event loop's thread only: plain maps,
 * no lock; the connections, their streams and the clients they serve share that loop.
 */
final class H2PodConnections {

    private static final AttributeKey<String> ADDRESS = AttributeKey.valueOf("sluice.h2.address");
    private static final AttributeKey<Promise<Channel>> READY = AttributeKey.valueOf("sluice.h2.ready");

    private final Bootstrap bootstrap;
    private final EventLoop loop;
    /**
     * The current connection per pod address (a retired one is no longer here), as the promise
     * of it being ready: connected, and the pod's SETTINGS read.
     */
    private final Map<String, Promise<Channel>> connections = new HashMap<>();
    private final ChannelInitializer<Channel> stream = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new Http1ToHttp2Request(), new Http2ToHttp1Response(), new UpstreamHandler());
        }
    };

    H2PodConnections(Bootstrap base, EventLoop loop) {
        this.loop = loop;
        this.bootstrap = base.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(H2Connections.podCodec(Http2Settings.defaultSettings().pushEnabled(false)));
                ch.pipeline().addLast(new Retire());
                ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                ch.pipeline().addLast(new Tail());
            }
        });
    }

    /**
     * A new stream to the h2c pod at {@code address}, on its connection (opened first if need
     * be; streams open only once the pod's SETTINGS came, so that its stream limit is known).
     */
    Future<Channel> open(String address, InetSocketAddress resolved) {
        Promise<Channel> ready = connections.get(address);
        if (ready == null || ready.isDone() && (!ready.isSuccess() || !ready.getNow().isActive())) {
            Promise<Channel> fresh = loop.newPromise();
            ready = fresh;
            connections.put(address, fresh);
            ChannelFuture connect = bootstrap.connect(resolved);
            Channel ch = connect.channel();
            // Set before the loop reads anything from it (this runs on that loop).
            ch.attr(ADDRESS).set(address);
            ch.attr(READY).set(fresh);
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    fresh.tryFailure(f.cause());
                }
            });
            ch.closeFuture().addListener(f -> {
                fresh.tryFailure(new ClosedChannelException());
                connections.remove(address, fresh);
            });
        }
        Promise<Channel> p = loop.newPromise();
        Promise<Channel> conn = ready;
        if (conn.isDone()) {
            openOn(conn, p);
        } else {
            conn.addListener(f -> openOn(conn, p));
        }
        return p;
    }

    private void openOn(Future<Channel> conn, Promise<Channel> p) {
        if (!conn.isSuccess()) {
            p.tryFailure(conn.cause());
            return;
        }
        // Not closed by a failed write: a body write that fails because the pod reset the stream
        // after answering would otherwise close the channel at once and drop the answer's frames
        // it still holds unread; the stream's end closes it once they are read.
        Http2StreamChannelBootstrap b = new Http2StreamChannelBootstrap(conn.getNow())
                .option(ChannelOption.AUTO_CLOSE, false).handler(stream);
        b.open().addListener(f -> {
            if (f.isSuccess()) {
                p.setSuccess((Http2StreamChannel) f.getNow());
            } else {
                p.setFailure(f.cause());
            }
        });
    }

    /**
     * Before the multiplexer: the pod's SETTINGS make its connection ready, and a GOAWAY retires
     * it for new streams before the multiplexer tells the streams it refused: those go again
     * at once ({@link Http2ToHttp1Response#UNPROCESSED}), and must find a new connection, not
     * this one (a stream opened on it now is above the GOAWAY's last stream and closed unread).
     */
    private final class Retire extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2SettingsFrame) {
                ctx.channel().attr(READY).get().trySuccess(ctx.channel());
            } else if (msg instanceof Http2GoAwayFrame) {
                connections.remove(ctx.channel().attr(ADDRESS).get(), ctx.channel().attr(READY).get());
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** After the multiplexer: the connection's own frames are done with; an I/O error closes it. */
    private static final class Tail extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
