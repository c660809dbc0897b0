package dev.sluice.server.proxy;

import dev.sluice.http1.RequestBody;
import dev.sluice.http1.RequestHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One client connection: requests are served one at a time, in order. While an exchange runs,
 * the next pipelined request (if the client sends one) waits in a small backlog, and auto-read
 * goes off as soon as the backlog takes anything, so it holds at most one read's worth.
 * Auto-read is switched only when needed (a body to hold back, a pipelined request): every
 * switch costs the transport work (with epoll an {@code epoll_ctl} system call), and a request
 * without a body that switched it off and on again paid two of them.
 *
 * <p>Writes: {@code ctx.write} sends bytes as they are (a pod's framed response, see
 * {@link dev.sluice.http1.ResponseFramer}); Sluice's own answers go through {@code ctx.channel().write}, which
 * passes the response encoder placed after this handler.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter {

    private final ProxyContext px;
    private ChannelHandlerContext ctx;
    private Exchange current;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(2);

    ClientHandler(ProxyContext px) {
        this.px = px;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

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
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (msg instanceof RequestHead req) {
            if (req.refused()) {
                req.release();
                px.refused.accept(req.errorStatus);
                ctx.channel().writeAndFlush(Answers.of(HttpResponseStatus.valueOf(req.errorStatus), null,
                        "malformed HTTP request: " + req.error + "\n", false))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            Route route = px.routes().find(req.revision, req.knativeNamespace, req.knativeRevision, req.host);
            if (route == null) {
                ctx.channel().writeAndFlush(Answers.of(HttpResponseStatus.NOT_FOUND, null, px.routes().explainMiss(
                        req.revision, req.knativeNamespace, req.knativeRevision, req.host), req.keepAlive, req.headMethod));
                req.release();
                if (!req.keepAlive) {
                    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            if (req.hasBody) {
                // A body follows: read no more of it until a pod can take it.
                ctx.channel().config().setAutoRead(false);
            }
            Exchange e = new Exchange(this, ctx, px, route, req);
            current = e;
            e.start();
            return;
        }
        if (msg instanceof RequestBody c) {
            // The body of a request answered without a pod (404): read and dropped.
            c.release();
            if (c.error != null) {
                ctx.close();
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    /** The exchange answered; serve the next request or close. Called on the event loop. */
    void exchangeDone(Exchange e, boolean keepAlive) {
        if (current != e) {
            return;
        }
        current = null;
        if (!keepAlive) {
            drainBacklog();
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
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
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
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

    private void drainBacklog() {
        for (Object m = backlog.poll(); m != null; m = backlog.poll()) {
            ReferenceCountUtil.release(m);
        }
    }
}
