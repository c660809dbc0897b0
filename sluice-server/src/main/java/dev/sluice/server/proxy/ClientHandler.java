package dev.sluice.server.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
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
 * {@link ResponseFramer}); Sluice's own answers go through {@code ctx.channel().write}, which
 * passes the response encoder placed after this handler.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter {

    private final ProxyContext px;
    private ChannelHandlerContext ctx;
    private Exchange current;
    private boolean discarding;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(2);
    private ForwardingHeaders.ForClient forwarded;

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
            if (current.isTunnel() && msg instanceof io.netty.buffer.ByteBuf b) {
                current.onClientBytes(b);
            } else if (msg instanceof HttpContent c && !current.requestComplete() && backlog.isEmpty()) {
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
        if (msg instanceof HttpRequest req) {
            if (req.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                ctx.channel().writeAndFlush(Answers.of(HttpResponseStatus.BAD_REQUEST, null,
                        "malformed HTTP request: " + req.decoderResult().cause().getMessage() + "\n", false))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            Route route = px.routes().find(req.headers());
            if (route == null) {
                discarding = !(req instanceof LastHttpContent);
                boolean keep = HttpUtil.isKeepAlive(req);
                ctx.channel().writeAndFlush(Answers.of(HttpResponseStatus.NOT_FOUND, null,
                        px.routes().explainMiss(req.headers()), keep, HttpMethod.HEAD.equals(req.method())));
                ReferenceCountUtil.release(msg);
                if (!keep) {
                    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            if (HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0) {
                // A body follows: read no more of it until a pod can take it.
                ctx.channel().config().setAutoRead(false);
            }
            Exchange e = new Exchange(this, ctx, px, route, req);
            current = e;
            e.start();
            if (msg instanceof HttpContent c && current == e) {
                e.onClientContent(c);
            }
            return;
        }
        if (msg instanceof HttpContent c) {
            if (discarding && c instanceof LastHttpContent) {
                discarding = false;
            }
            ReferenceCountUtil.release(c);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    /** This connection's forwarding headers, built on first use. */
    ForwardingHeaders.ForClient forwarded() {
        ForwardingHeaders.ForClient f = forwarded;
        if (f == null) {
            f = new ForwardingHeaders.ForClient(ctx.channel().remoteAddress());
            forwarded = f;
        }
        return f;
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
            } else if (next instanceof HttpContent c && !current.requestComplete()) {
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
