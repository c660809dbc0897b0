package dev.sluice.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An h2c pod (HTTP/2 only, prior knowledge) whose answer depends on the request's path, for
 * the relay's tests: {@code /hold} waits until {@link #release()}; {@code /refuse-once} is reset
 * {@code REFUSED_STREAM} the first time and answered after; {@code /reset} is always reset
 * {@code INTERNAL_ERROR}; {@code /close} closes the connection the first time; {@code /goaway-once} is refused the first time by a GOAWAY
 * whose last stream is below it, and answered after; {@code /big}
 * answers {@link #BIG} bytes in 16 KiB DATA frames and a trailer; {@code /early} with a body is
 * answered whole on its HEADERS, then reset {@code NO_ERROR}, its body unread ({@code /early-big}
 * the same with {@link #BIG} bytes); anything else (readiness
 * checks included) 200 with the pod's name (a HEAD without a body). It records every request's fields, how many streams
 * it serves at once (and the most), and the resets Sluice sent it. {@code maxStreams} is its
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS}.
 */
public final class ScriptedH2cPod implements AutoCloseable {

    public static final int BIG = 1 << 20;

    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final List<Http2Headers> requests = new CopyOnWriteArrayList<>();
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private final List<ChannelHandlerContext> held = new ArrayList<>();
    private final AtomicInteger current = new AtomicInteger();
    private final AtomicInteger most = new AtomicInteger();
    private final AtomicInteger cancelled = new AtomicInteger();
    private final AtomicInteger refusals = new AtomicInteger();
    private final AtomicInteger closes = new AtomicInteger();
    private final AtomicInteger goAways = new AtomicInteger();

    public ScriptedH2cPod(String name, String host, int maxStreams) throws InterruptedException {
        this.name = name;
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                                        .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(maxStreams))
                                        .build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                        stream.pipeline().addLast(new Stream());
                                    }
                                }));
                    }
                }).bind(new InetSocketAddress(host, 0)).sync().channel();
    }

    public String address() {
        InetSocketAddress a = (InetSocketAddress) server.localAddress();
        return a.getHostString() + ":" + a.getPort();
    }

    public String name() {
        return name;
    }

    /** The fields of every request but readiness checks ({@code /healthz}), in order. */
    public List<Http2Headers> requests() {
        return List.copyOf(requests);
    }

    /** The bodies of the requests of {@link #requests}, in order (empty for none). */
    public List<String> bodies() {
        return List.copyOf(bodies);
    }

    /** Streams being served now (held ones included). */
    public int current() {
        return current.get();
    }

    /** The most streams it served at once. */
    public int most() {
        return most.get();
    }

    /** Streams Sluice reset while the pod had them. */
    public int cancelled() {
        return cancelled.get();
    }

    /** Answers every held request (on the pod's loop). */
    public void release() {
        group.next().execute(() -> {
            for (ChannelHandlerContext ctx : held) {
                answer(ctx, "released");
            }
            held.clear();
        });
    }

    private void answer(ChannelHandlerContext ctx, String body) {
        current.decrementAndGet();
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").set("content-type", "text/plain")));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(name + ":" + body, StandardCharsets.UTF_8),
                true));
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream: acts once the request's last frame came. */
    private final class Stream extends ChannelInboundHandlerAdapter {
        private Http2Headers head;
        private final StringBuilder body = new StringBuilder();
        private boolean answered;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean end = false;
            if (msg instanceof Http2HeadersFrame h) {
                if (head == null) {
                    head = h.headers();
                    if (!h.isEndStream() && head.path().toString().startsWith("/early")) {
                        ReferenceCountUtil.release(msg);
                        answerEarly(ctx);
                        return;
                    }
                }
                end = h.isEndStream();
            } else if (msg instanceof Http2DataFrame d) {
                body.append(d.content().toString(StandardCharsets.ISO_8859_1));
                end = d.isEndStream();
            }
            ReferenceCountUtil.release(msg);
            if (end && !answered) {
                act(ctx);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame && !answered) {
                answered = true;
                cancelled.incrementAndGet();
                if (held.remove(ctx) || head != null && requests.contains(head)) {
                    current.decrementAndGet(); // it was being served
                }
            }
            ReferenceCountUtil.release(evt);
        }

        private void act(ChannelHandlerContext ctx) {
            if ("/healthz".contentEquals(head.path())) {
                answered = true;
                current.incrementAndGet();
                answer(ctx, "healthy"); // a readiness check: not counted
                return;
            }
            requests.add(head);
            bodies.add(body.toString());
            most.accumulateAndGet(current.incrementAndGet(), Math::max);
            String path = head.path().toString();
            switch (path) {
                case "/hold" -> held.add(ctx);
                case "/refuse-once" -> {
                    if (refusals.getAndIncrement() == 0) {
                        reset(ctx, Http2Error.REFUSED_STREAM);
                    } else {
                        done(ctx, "ok");
                    }
                }
                case "/goaway-once" -> {
                    if (goAways.getAndIncrement() == 0) {
                        // GOAWAY whose last stream is below this one: refused unprocessed (RFC 9113 §8.7)
                        answered = true;
                        current.decrementAndGet();
                        Channel connection = ctx.channel().parent();
                        Http2FrameCodec codec = connection.pipeline().get(Http2FrameCodec.class);
                        ChannelHandlerContext at = connection.pipeline().context(codec);
                        codec.goAway(at, ((Http2StreamChannel) ctx.channel()).stream().id() - 2,
                                Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, at.newPromise());
                        at.flush();
                    } else {
                        done(ctx, "ok");
                    }
                }
                case "/reset" -> reset(ctx, Http2Error.INTERNAL_ERROR);
                case "/close" -> {
                    if (closes.getAndIncrement() == 0) {
                        answered = true;
                        current.decrementAndGet();
                        ctx.channel().parent().close();
                    } else {
                        done(ctx, "ok");
                    }
                }
                case "/big" -> {
                    answered = true;
                    current.decrementAndGet();
                    ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                    byte[] chunk = new byte[16 * 1024];
                    for (int sent = 0; sent < BIG; sent += chunk.length) {
                        ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(chunk), false));
                    }
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("x-sum",
                            Integer.toString(BIG)), true));
                }
                default -> {
                    if ("HEAD".contentEquals(head.method())) {
                        answered = true;
                        current.decrementAndGet();
                        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true));
                    } else {
                        done(ctx, "ok");
                    }
                }
            }
        }

        /**
         * Answers whole before reading the body, then resets the stream {@code NO_ERROR} once the
         * answer has gone out (as nginx does for {@code return 200}; RFC 9113 §8.1): what
         * follows of the body is not read.
         */
        private void answerEarly(ChannelHandlerContext ctx) {
            answered = true;
            requests.add(head);
            bodies.add("");
            most.accumulateAndGet(current.incrementAndGet(), Math::max);
            current.decrementAndGet();
            ctx.channel().config().setAutoRead(false); // the rest of the body is not read: its window stays shut
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
            if ("/early-big".contentEquals(head.path())) {
                byte[] chunk = new byte[16 * 1024];
                for (int sent = chunk.length; sent < BIG; sent += chunk.length) {
                    ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(chunk), false));
                }
            }
            ByteBuf last = "/early-big".contentEquals(head.path()) ? Unpooled.wrappedBuffer(new byte[16 * 1024])
                    : Unpooled.copiedBuffer(name + ":early", StandardCharsets.UTF_8);
            // Closed after the reset: the channel drops the body's frames it holds unread.
            ctx.writeAndFlush(new DefaultHttp2DataFrame(last, true))
                    .addListener(f -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR))
                            .addListener(r -> ctx.close()));
        }

        private void done(ChannelHandlerContext ctx, String body) {
            answered = true;
            answer(ctx, body);
        }

        private void reset(ChannelHandlerContext ctx, Http2Error error) {
            answered = true;
            current.decrementAndGet();
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
        }
    }
}
