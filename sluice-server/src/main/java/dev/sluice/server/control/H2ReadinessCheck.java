package dev.sluice.server.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.server.config.ReadinessProbe;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Probes an h2c pod over HTTP/2 with prior knowledge, on a connection of its own: either
 * {@code GET readinessPath} (ready on a 2xx), or, for {@code readinessProbe: grpc}, the gRPC
 * health protocol's {@code grpc.health.v1.Health/Check} (ready when the answer is
 * {@code grpc-status: 0} and {@code SERVING}). The two messages of that protocol are written
 * and read by hand (field 1 of each: the service name, the status), so no protobuf runtime is
 * needed. A failure says why ({@code GET /healthz answered 503},
 * {@code grpc.health.v1.Health/Check: NOT_SERVING}), like {@link HttpReadinessCheck}'s.
 *
 * <h2>Implementation notes</h2>
 * Asynchronous: each check opens a connection on the given event loops, and everything about
 * it runs on that connection's loop; the result is a {@link CompletableFuture} completed once
 * (the answer, the stream's end, or the timeout, whichever comes first), after which the
 * connection is closed.
 */
public final class H2ReadinessCheck implements ReadinessCheck {

    private static final String HEALTH_CHECK = "/grpc.health.v1.Health/Check";
    private static final String[] SERVING_STATUS = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

    private final Bootstrap bootstrap;
    private final Duration timeout;
    private final Function<RevisionId, String> pathOf;
    private final Function<RevisionId, ReadinessProbe> probeOf;

    public H2ReadinessCheck(EventLoopGroup group, Class<? extends Channel> channelClass, Duration timeout,
            Function<RevisionId, String> pathOf, Function<RevisionId, ReadinessProbe> probeOf) {
        this.timeout = timeout;
        this.pathOf = pathOf;
        this.probeOf = probeOf;
        this.bootstrap = new Bootstrap().group(group).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                });
    }

    @Override
    public CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
        ReadinessProbe probe = probeOf.apply(revision);
        String path = pathOf.apply(revision);
        boolean grpc = probe != null && probe.grpc();
        String what = grpc ? HEALTH_CHECK.substring(1) : "GET " + (path == null ? "/" : path);
        InetSocketAddress to;
        try {
            int colon = address.lastIndexOf(':');
            String host = address.substring(0, colon);
            if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            }
            to = new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new Failed("not an address: " + address));
        }
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        ChannelFuture connect = bootstrap.connect(to);
        Channel conn = connect.channel();
        ScheduledFuture<?> timer = conn.eventLoop().schedule(() -> {
            result.completeExceptionally(new Failed("no answer within " + timeout.toMillis() + " ms"));
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        result.whenComplete((r, e) -> {
            timer.cancel(false);
            conn.close();
        });
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new Failed(connectFailure(f.cause())));
                return;
            }
            new Http2StreamChannelBootstrap(conn).handler(new Answer(result, grpc, what)).open().addListener(s -> {
                if (!s.isSuccess()) {
                    result.completeExceptionally(new Failed("cannot open an HTTP/2 stream: " + s.cause()));
                    return;
                }
                Channel stream = (Channel) s.getNow();
                Http2Headers h = new DefaultHttp2Headers().scheme("http").authority(address);
                if (grpc) {
                    h.method("POST").path(HEALTH_CHECK).add("content-type", "application/grpc").add("te", "trailers")
                            .add("user-agent", "sluice-readiness");
                    stream.write(new DefaultHttp2HeadersFrame(h, false));
                    stream.writeAndFlush(new DefaultHttp2DataFrame(request(probe.grpcService()), true));
                } else {
                    h.method("GET").path(path == null ? "/" : path).add("user-agent", "sluice-readiness");
                    stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, true));
                }
            });
        });
        return result;
    }

    /** Why the connection failed, as an operator would say it. */
    private String connectFailure(Throwable t) {
        if (t instanceof ConnectTimeoutException) {
            return "no connection within " + timeout.toMillis() + " ms";
        }
        String m = t.getMessage();
        return m != null && m.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused"
                : "cannot connect: " + (m == null ? t.getClass().getSimpleName() : m);
    }

    /** A {@code HealthCheckRequest} in gRPC's framing: field 1, the service name (absent if empty). */
    static ByteBuf request(String service) {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        ByteBuf message = Unpooled.buffer();
        if (name.length > 0) {
            message.writeByte(0x0a);
            for (int n = name.length; ; n >>>= 7) {
                if (n < 0x80) {
                    message.writeByte(n);
                    break;
                }
                message.writeByte((n & 0x7f) | 0x80);
            }
            message.writeBytes(name);
        }
        ByteBuf framed = Unpooled.buffer(5 + message.readableBytes()).writeByte(0).writeInt(message.readableBytes())
                .writeBytes(message);
        message.release();
        return framed;
    }

    /**
     * The serving status in a {@code HealthCheckResponse} in gRPC's framing (field 1, a varint;
     * absent means 0, UNKNOWN), or -1 if it cannot be read.
     */
    static int servingStatus(ByteBuf framed) {
        if (framed.readableBytes() < 5 || framed.getByte(framed.readerIndex()) != 0) {
            return -1;
        }
        int at = framed.readerIndex() + 5;
        int end = Math.min(framed.writerIndex(), at + framed.getInt(framed.readerIndex() + 1));
        while (at < end) {
            int tag = framed.getByte(at++) & 0xff;
            if (tag == 0x08 && at < end) {
                return framed.getByte(at) & 0x7f;
            }
            return -1; // no other field in this message is known to this reader
        }
        return 0;
    }

    /** The stream's answer: read into one outcome. */
    private static final class Answer extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<Boolean> result;
        private final boolean grpc;
        private final String what;
        private final ByteBuf body = Unpooled.buffer();
        private boolean headSeen;

        Answer(CompletableFuture<Boolean> result, boolean grpc, String what) {
            this.result = result;
            this.grpc = grpc;
            this.what = what;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    headers(h.headers(), h.isEndStream());
                } else if (msg instanceof Http2DataFrame d) {
                    body.writeBytes(d.content());
                    if (d.isEndStream()) {
                        ended();
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void headers(Http2Headers h, boolean endStream) {
            if (!headSeen) {
                CharSequence status = h.status();
                if (status != null && status.charAt(0) == '1') {
                    return;
                }
                headSeen = true;
                if (status == null || status.charAt(0) != '2') {
                    result.completeExceptionally(new Failed(what + " answered " + status));
                    return;
                }
                if (!grpc) {
                    result.complete(Boolean.TRUE);
                    return;
                }
            }
            CharSequence grpcStatus = h.get("grpc-status");
            if (grpcStatus != null) {
                if (!grpcStatus.toString().equals("0")) {
                    CharSequence m = h.get("grpc-message");
                    result.completeExceptionally(new Failed(what + " answered grpc-status " + grpcStatus
                            + (m == null ? "" : " (" + m + ")")));
                    return;
                }
                int serving = servingStatus(body);
                if (serving == 1) {
                    result.complete(Boolean.TRUE);
                } else {
                    result.completeExceptionally(new Failed(what + ": " + (serving >= 0 && serving < 4
                            ? SERVING_STATUS[serving] : "unreadable answer")));
                }
            } else if (endStream) {
                ended();
            }
        }

        private void ended() {
            result.completeExceptionally(new Failed(what + ": the answer ended without grpc-status"));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            body.release();
            result.completeExceptionally(new Failed(what + ": the stream closed before an answer"));
        }
    }
}
