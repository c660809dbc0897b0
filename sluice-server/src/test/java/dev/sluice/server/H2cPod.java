package dev.sluice.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A pod that speaks HTTP/2 only, with prior knowledge (h2c), on a loopback address of its own:
 * every request (readiness checks included) is answered 200 with the pod's name once its
 * stream has ended, and its path recorded. An HTTP/1.1 request gets no answer but a closed
 * connection, so a test can tell which protocol reached it.
 */
public final class H2cPod implements AutoCloseable {

    private final String name;
    private final String host;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<String> paths = new CopyOnWriteArrayList<>();

    public H2cPod(String name, String host) throws InterruptedException {
        this.name = name;
        this.host = host;
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                        stream.pipeline().addLast(new Answer());
                                    }
                                }));
                    }
                }).bind(new InetSocketAddress(host, 0)).sync().channel();
    }

    public String ip() {
        return host;
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The paths of the requests it answered, readiness checks included, in order. */
    public List<String> paths() {
        return List.copyOf(paths);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream: answers when the request's last frame has come. */
    private final class Answer extends SimpleChannelInboundHandler<Http2StreamFrame> {
        private String path;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            boolean end = false;
            if (frame instanceof Http2HeadersFrame h) {
                if (path == null) {
                    path = String.valueOf(h.headers().path());
                }
                end = h.isEndStream();
            } else if (frame instanceof Http2DataFrame d) {
                end = d.isEndStream();
            }
            if (end) {
                paths.add(path);
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                        .set("content-type", "text/plain")));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(name, StandardCharsets.UTF_8), true));
            }
        }
    }
}
