package dev.sluice.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC server over HTTP/1.1 on loopback, for tests of HTTP/2 clients reaching an HTTP/1.1
 * revision: it answers gRPC calls in gRPC's framing with a chunked body whose trailer section
 * carries {@code grpc-status}, as a gRPC-over-HTTP/1.1 bridge would, and {@code GET /healthz}
 * with 200 for Sluice's readiness check. Methods: {@code test.Echo/Unary} answers
 * {@code <pod>:<request>}; {@code test.Echo/Stream} answers a request {@code N} with N messages
 * {@code <pod>:0} … {@code <pod>:N-1}. It counts the calls it runs at once; with
 * {@link #hold()} each call waits (on a thread of its own) until {@link #release(int)}.
 */
public final class GrpcHttp1Pod implements AutoCloseable {

    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExecutorService calls = Executors.newCachedThreadPool();
    private final Channel server;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger arrived = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger aborted = new AtomicInteger();
    private final Semaphore gate = new Semaphore(Integer.MAX_VALUE);

    public GrpcHttp1Pod(String name) throws InterruptedException {
        this.name = name;
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Call());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    public String name() {
        return name;
    }

    public String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Calls that reach the pod from now wait for {@link #release(int)}. */
    public void hold() {
        gate.drainPermits();
    }

    public void release(int n) {
        gate.release(n);
    }

    /** Every call goes through from now. */
    public void open() {
        gate.release(Integer.MAX_VALUE / 2);
    }

    public int inFlight() {
        return inFlight.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    public int arrived() {
        return arrived.get();
    }

    public int served() {
        return served.get();
    }

    /** Calls whose connection closed before they were answered. */
    public int aborted() {
        return aborted.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        calls.shutdownNow();
    }

    /** gRPC's message framing: a compression flag, a 4-byte length, the message. */
    static ByteBuf frame(String message) {
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer(5 + b.length).writeByte(0).writeInt(b.length).writeBytes(b);
    }

    /** One connection: calls one at a time (HTTP/1.1). */
    private final class Call extends SimpleChannelInboundHandler<HttpObject> {
        private String path;
        private ByteBuf body = Unpooled.buffer();
        private boolean running;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest req) {
                path = req.uri();
                body.clear();
            }
            if (msg instanceof HttpContent c) {
                body.writeBytes(c.content());
            }
            if (!(msg instanceof LastHttpContent)) {
                return;
            }
            if (path.equals("/healthz")) {
                FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
                ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2);
                ctx.writeAndFlush(ok);
                return;
            }
            String request = body.readableBytes() >= 5
                    ? body.toString(5, body.readableBytes() - 5, StandardCharsets.UTF_8) : "";
            arrived.incrementAndGet();
            running = true;
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            calls.execute(() -> answer(ctx, request));
        }

        private void answer(ChannelHandlerContext ctx, String request) {
            try {
                gate.acquire();
            } catch (InterruptedException e) {
                return;
            }
            ctx.executor().execute(() -> {
                if (!running) {
                    return; // the connection closed meanwhile
                }
                HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                        .set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
                ctx.write(head);
                if (path.endsWith("/Stream")) {
                    int n = Integer.parseInt(request);
                    for (int i = 0; i < n; i++) {
                        ctx.writeAndFlush(new DefaultHttpContent(frame(name + ":" + i)));
                    }
                } else {
                    ctx.write(new DefaultHttpContent(frame(name + ":" + request)));
                }
                running = false;
                inFlight.decrementAndGet();
                served.incrementAndGet();
                LastHttpContent end = new DefaultLastHttpContent();
                end.trailingHeaders().set("grpc-status", "0");
                ctx.writeAndFlush(end);
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (running) {
                running = false;
                inFlight.decrementAndGet();
                aborted.incrementAndGet();
            }
            body.release();
        }
    }
}
