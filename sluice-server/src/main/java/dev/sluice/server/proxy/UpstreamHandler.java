package dev.sluice.server.proxy;

import dev.sluice.http1.ResponseFramer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * The end of an upstream connection's pipeline: frames what the pod sends
 * ({@link ResponseFramer}) for the exchange the connection is lent to. Between exchanges (idle
 * in the pool) nothing is expected; anything that arrives is dropped and the connection
 * closed, since it could only be a response to nothing.
 *
 * <h2>Implementation notes</h2>
 * Runs on the connection's event loop only, like the exchange it is bound to. The framer may
 * end the exchange from inside {@link #channelRead}, and the exchange may bind this handler to
 * the next exchange at once (the connection went back to the pool and a waiter on this loop
 * took it): the read buffer is released here after the framer is done with it, whoever the
 * handler is bound to by then.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {

    static final AttributeKey<Boolean> POOLED_ONCE = AttributeKey.valueOf("sluice.pooled");

    private final ResponseFramer framer = new ResponseFramer();
    private Exchange exchange;

    /**
     * Lends the connection to {@code exchange}, whose request is about to be written: what
     * the client can take decides how the response is framed.
     */
    void bind(Exchange exchange, boolean headRequest, boolean clientKeepAlive, boolean clientHttp11, String upgrade) {
        this.exchange = exchange;
        framer.expect(headRequest, clientKeepAlive, clientHttp11, upgrade);
    }

    void unbind() {
        this.exchange = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Exchange e = exchange;
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
        Exchange e = exchange;
        if (e != null) {
            e.onUpstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null) {
            e.onUpstreamWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null && !framer.closed(e)) {
            e.onUpstreamClosed(null);
        }
        framer.dispose();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        framer.dispose();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Exchange e = exchange;
        ctx.close();
        if (e != null) {
            e.onUpstreamClosed(cause);
        }
    }
}
