package dev.sluice.server.proxy;

import dev.sluice.server.config.ClientLimits;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;

/**
 * First in a new client connection's pipeline, for its first bytes only: HTTP/2 with prior
 * knowledge starts with the connection preface ({@code PRI * HTTP/2.0}, RFC 9113 §3.4), any
 * HTTP/1 request does not. On the first byte that differs (the first read, for every HTTP/1
 * client) this handler takes itself out and the HTTP/1.1 pipeline behind it carries on as if
 * it had never been there; on the whole preface it asks {@link H2ClientConnection} to replace
 * that pipeline. So the HTTP/1.1 path pays one comparison per connection, nothing per request.
 *
 * <h2>Implementation notes</h2>
 * On the connection's event loop only. A first read shorter than the preface that matches it
 * so far is kept ({@link #held}) until the next read decides; a connection that closes
 * meanwhile releases it.
 */
final class PrefaceSniffer extends ChannelInboundHandlerAdapter {

    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ProxyContext px;
    private final ClientLimits limits;
    private ByteBuf held;

    PrefaceSniffer(ProxyContext px, ClientLimits limits) {
        this.px = px;
        this.limits = limits;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf b)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = b;
        if (held != null) {
            in = ctx.alloc().buffer(held.readableBytes() + b.readableBytes()).writeBytes(held).writeBytes(b);
            held.release();
            b.release();
            held = null;
        }
        int n = Math.min(in.readableBytes(), PREFACE.length);
        int at = in.readerIndex();
        for (int i = 0; i < n; i++) {
            if (in.getByte(at + i) != PREFACE[i]) {
                // HTTP/1: out of the way for good.
                ctx.fireChannelRead(in);
                ctx.pipeline().remove(this);
                return;
            }
        }
        if (n < PREFACE.length) {
            held = in;
            return;
        }
        new H2ClientConnection(px, limits).install(ctx);
        ctx.fireChannelRead(in);
        ctx.pipeline().remove(this);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
