package dev.sluice.server.proxy;

import dev.sluice.http1.ResponseFramer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * The end of an upstream connection's pipeline: frames what the pod sends
 * ({@link ResponseFramer}) for the {@link Listener} the connection is lent to (the exchange that
 * holds it; this class does not know the exchange, so the way runs one direction). Between exchanges (idle
 * in the pool) nothing is expected; anything that arrives is dropped and the connection
 * closed, since it could only be a response to nothing.
 *
 * <h2>Implementation notes</h2>
 * Runs on the connection's event loop only, like the listener it is bound to. The framer may
 * end the exchange from inside {@link #channelRead}, and the exchange may bind this handler to
 * the next exchange at once (the connection went back to the pool and a waiter on this loop
 * took it): the read buffer is released here after the framer is done with it, whoever the
 * handler is bound to by then.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {

    static final AttributeKey<Boolean> POOLED_ONCE = AttributeKey.valueOf("sluice.pooled");

    /** What the connection reports to whoever holds it: the framed response, and its end. */
    interface Listener extends ResponseFramer.Sink {
        /** The pod's read ended. */
        void podReadComplete();

        void podWritabilityChanged(boolean writable);

        /** The connection closed or failed ({@code cause}, or null) before the response ended. */
        void podClosed(Throwable cause);
    }

    private final ResponseFramer framer = new ResponseFramer();
    private Listener exchange;

    /**
     * Lends the connection to {@code exchange}, whose request is about to be written: what
     * the client can take decides how the response is framed.
     */
    void bind(Listener exchange, boolean headRequest, boolean clientKeepAlive, boolean clientHttp11, String upgrade) {
        this.exchange = exchange;
        framer.expect(headRequest, clientKeepAlive, clientHttp11, upgrade);
    }

    void unbind() {
        this.exchange = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Listener e = exchange;
        if (e == null || !(msg instanceof ByteBuf b)) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        try {
            framer.feed(b, ctx.alloc(), e);
        } finally {
            b.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Listener e = exchange;
        if (e != null) {
            e.podReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Listener e = exchange;
        if (e != null) {
            e.podWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Listener e = exchange;
        if (e != null && !framer.closed(e)) {
            e.podClosed(null);
        }
        framer.dispose();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        framer.dispose();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Listener e = exchange;
        // Unbound first: the close must not report the end a second time (without its cause).
        exchange = null;
        ctx.close();
        if (e != null) {
            e.podClosed(cause);
        }
    }
}
