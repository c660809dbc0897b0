package dev.sluice.server.proxy;

import dev.sluice.http1.RequestBody;
import dev.sluice.http1.RequestFramer;
import dev.sluice.http1.RequestHead;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The client pipeline's "decoder": feeds each read to the connection's {@link RequestFramer}
 * and passes its {@link RequestHead}s and {@link RequestBody} parts on. When an upgrade turns
 * the connection into a tunnel, {@link Relay} removes this handler; the bytes the
 * framer had kept, and any that arrive after, go on unframed.
 *
 * <h2>Implementation notes</h2>
 * Runs on its channel's event loop only, like the framer it owns: no synchronisation. The
 * framer is made on the first read, when the client's address is known.
 */
final class RequestDecoder extends ChannelInboundHandlerAdapter implements RequestFramer.Sink {

    private RequestFramer framer;
    private ChannelHandlerContext ctx;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (framer == null) {
            framer = new RequestFramer(ctx.channel().remoteAddress(), this);
        }
        this.ctx = ctx;
        framer.feed(in, ctx.alloc());
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf kept = framer == null ? null : framer.detach();
        if (kept != null && kept.isReadable()) {
            ctx.fireChannelRead(kept); // a tunnel's first bytes
        } else if (kept != null) {
            kept.release();
        }
    }

    @Override
    public void head(RequestHead head) {
        ctx.fireChannelRead(head);
    }

    @Override
    public void body(RequestBody body) {
        ctx.fireChannelRead(body);
    }

    @Override
    public boolean tunnelling() {
        return ctx.isRemoved();
    }

    @Override
    public void tunnelBytes(ByteBuf bytes) {
        ctx.fireChannelRead(bytes);
    }
}
