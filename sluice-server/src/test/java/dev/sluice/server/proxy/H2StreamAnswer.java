package dev.sluice.server.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * What came back on one HTTP/2 stream of a test's client (Netty's, a child channel per stream):
 * the head, the body (as ISO-8859-1, one char per byte), the trailers, or the error code of the
 * reset that ended it.
 */
record H2StreamAnswer(Http2Headers head, String body, Http2Headers trailers, Http2Error reset) {

    /**
     * A test client's h2c connection (prior knowledge) to {@code address}: Netty's frame codec
     * and multiplexer, then {@code after} for the connection's own frames.
     */
    static Channel connect(EventLoopGroup group, SocketAddress address, ChannelHandler... after)
            throws InterruptedException {
        return new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(after);
                    }
                }).connect(address).sync().channel();
    }

    String status() {
        return head.status().toString();
    }

    /** The stream channel's handler that gathers the answer into {@code answer}. */
    static ChannelInboundHandlerAdapter collector(CompletableFuture<H2StreamAnswer> answer) {
        return new Collector(answer);
    }

    private static final class Collector extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<H2StreamAnswer> answer;
        private final StringBuilder body = new StringBuilder();
        private Http2Headers head;

        Collector(CompletableFuture<H2StreamAnswer> answer) {
            this.answer = answer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    if (head == null) {
                        head = h.headers();
                        if (h.isEndStream()) {
                            answer.complete(new H2StreamAnswer(head, "", null, null));
                        }
                    } else {
                        answer.complete(new H2StreamAnswer(head, body.toString(), h.headers(), null));
                    }
                } else if (msg instanceof Http2DataFrame d) {
                    body.append(d.content().toString(StandardCharsets.ISO_8859_1));
                    if (d.isEndStream()) {
                        answer.complete(new H2StreamAnswer(head, body.toString(), null, null));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                answer.complete(new H2StreamAnswer(head, body.toString(), null, Http2Error.valueOf(r.errorCode())));
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            answer.completeExceptionally(new IllegalStateException("the stream closed before its answer"));
        }
    }
}
