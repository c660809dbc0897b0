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
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * What came back on one HTTP/2 stream of a test's client (Netty's, a child channel per stream):
 * the head, the body (as ISO-8859-1, one char per byte), the trailers, whether END_STREAM came,
 * and the error code of a reset that came (null: none).
 */
record H2StreamAnswer(Http2Headers head, String body, Http2Headers trailers, boolean endStream, Http2Error reset) {

    /**
     * A test client's h2c connection (prior knowledge) to {@code address}: Netty's frame codec
     * and multiplexer, then {@code after} for the connection's own frames.
     */
    static Channel connect(EventLoopGroup group, SocketAddress address, ChannelHandler... after)
            throws InterruptedException {
        return connect(group, address, Http2Settings.defaultSettings(), after);
    }

    /** {@link #connect(EventLoopGroup, SocketAddress, ChannelHandler...)} with the client's own {@code settings}. */
    static Channel connect(EventLoopGroup group, SocketAddress address, Http2Settings settings,
            ChannelHandler... after) throws InterruptedException {
        return new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().initialSettings(settings).build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(after);
                    }
                }).connect(address).sync().channel();
    }

    String status() {
        return head.status().toString();
    }

    /**
     * The stream channel's handler that gathers the answer into {@code answer} once it ends (its
     * END_STREAM, or a reset); a stream closed before that fails it.
     */
    static ChannelInboundHandlerAdapter collector(CompletableFuture<H2StreamAnswer> answer) {
        return new Gatherer(answer, false);
    }

    /**
     * The stream channel's handler that gathers everything into {@code answer} until the stream
     * channel closes: the answer, and a reset that follows its END_STREAM.
     */
    static ChannelInboundHandlerAdapter recorder(CompletableFuture<H2StreamAnswer> answer) {
        return new Gatherer(answer, true);
    }

    private static final class Gatherer extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<H2StreamAnswer> answer;
        private final boolean untilClosed;
        private final StringBuilder body = new StringBuilder();
        private Http2Headers head;
        private Http2Headers trailers;
        private boolean endStream;
        private Http2Error reset;

        Gatherer(CompletableFuture<H2StreamAnswer> answer, boolean untilClosed) {
            this.answer = answer;
            this.untilClosed = untilClosed;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    if (head == null) {
                        head = h.headers();
                    } else {
                        trailers = h.headers();
                    }
                    endStream |= h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    body.append(d.content().toString(StandardCharsets.ISO_8859_1));
                    endStream |= d.isEndStream();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            if (endStream && !untilClosed) {
                complete();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                reset = Http2Error.valueOf(r.errorCode());
                if (!untilClosed) {
                    complete();
                }
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (untilClosed) {
                complete();
            } else {
                answer.completeExceptionally(new IllegalStateException("the stream closed before its answer"));
            }
        }

        private void complete() {
            answer.complete(new H2StreamAnswer(head, body.toString(), trailers, endStream, reset));
        }
    }
}
