package dev.sluice.benchmarks.scale;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One HTTP/1.1 server, bound on every address ({@code 0.0.0.0}), that answers for as many pods
 * as there are loopback addresses: on Linux all of 127/8 reaches it. It answers every request
 * {@code 200 ok} and remembers, for each local address, when its first readiness check
 * ({@code GET /ready}) was answered, so the driver can follow start-up without asking Sluice.
 *
 * <h2>Implementation notes</h2>
 * Requests are GETs without bodies: a request ends at its blank line, so the handler counts
 * {@code CRLF CRLF} across reads (a 3-byte carry) and writes one canned answer per request.
 * State shared between event loops is a concurrent map and atomics.
 */
final class LoopbackBackend implements AutoCloseable {

    private static final byte[] OK = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-type: text/plain\r\n\r\nok\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final EventLoopGroup group;
    private final Channel server;
    /** Local address → nanoTime of the first readiness check answered there. */
    final ConcurrentHashMap<String, Long> firstCheck = new ConcurrentHashMap<>();
    final AtomicLong checks = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicInteger open = new AtomicInteger();

    LoopbackBackend(int threads) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Answer());
                    }
                }).bind(new InetSocketAddress("0.0.0.0", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Answers each request on one connection; tells readiness checks from proxied requests. */
    private final class Answer extends ChannelInboundHandlerAdapter {
        private int matched; // how much of CRLF CRLF the last bytes matched
        private boolean inFirstLine = true;
        private boolean isCheck;
        private int linePos;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            open.incrementAndGet();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            open.decrementAndGet();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                while (in.isReadable()) {
                    byte b = in.readByte();
                    if (inFirstLine) {
                        // "GET /ready": the path starts at byte 4
                        if (linePos >= 4 && linePos < 10) {
                            isCheck = linePos == 4 ? b == '/' : isCheck && b == "/ready".charAt(linePos - 4);
                        }
                        linePos++;
                        if (b == '\n') {
                            inFirstLine = false;
                        }
                    }
                    matched = b == '\r' ? (matched == 2 ? 3 : 1) : b == '\n' && (matched == 1 || matched == 3)
                            ? matched + 1 : 0;
                    if (matched == 4) {
                        answered(ctx);
                        matched = 0;
                        inFirstLine = true;
                        linePos = 0;
                    }
                }
            } finally {
                in.release();
            }
            ctx.flush();
        }

        private void answered(ChannelHandlerContext ctx) {
            if (isCheck) {
                checks.incrementAndGet();
                String local = ((InetSocketAddress) ctx.channel().localAddress()).getAddress().getHostAddress();
                firstCheck.putIfAbsent(local, System.nanoTime());
            } else {
                requests.incrementAndGet();
            }
            isCheck = false;
            ctx.write(Unpooled.wrappedBuffer(OK));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
