package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.http1.RequestHead;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCounted;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pipeline adapter of the request framer: what it passes on, and what it hands over when removed. */
class RequestDecoderTest {

    @Test
    void removedItHandsOnWhatItKept() {
        List<Object> after = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new RequestDecoder(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                after.add(msg);
            }
        });
        ch.writeInbound(Unpooled.copiedBuffer("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n"
                + "GET partial", StandardCharsets.ISO_8859_1));
        assertThat(after).hasSize(1);
        assertThat(((RequestHead) after.get(0)).upgrade).isEqualTo("x");
        ch.pipeline().removeFirst();
        assertThat(after).hasSize(2);
        assertThat(((ByteBuf) after.get(1)).toString(StandardCharsets.ISO_8859_1)).isEqualTo("GET partial");
        after.forEach(m -> ((ReferenceCounted) m).release());
        ch.finishAndReleaseAll();
    }

    @Test
    void removedWhileItsHeadIsHandledTheRestIsTheTunnels() {
        List<Object> after = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new RequestDecoder(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                after.add(msg);
                if (msg instanceof RequestHead) {
                    ctx.pipeline().remove(RequestDecoder.class); // as Relay does on an upgrade
                }
            }
        });
        ch.writeInbound(Unpooled.copiedBuffer("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n"
                + "\u0000binary frame", StandardCharsets.ISO_8859_1));
        assertThat(after).hasSize(2);
        assertThat(((ByteBuf) after.get(1)).toString(StandardCharsets.ISO_8859_1)).isEqualTo("\u0000binary frame");
        after.forEach(m -> ((ReferenceCounted) m).release());
        ch.finishAndReleaseAll();
    }
}
