package dev.sluice.server.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ReadinessCheck;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Probes a pod with {@code GET http://address/readinessPath} on Sluice's own event loops (a
 * Netty HTTP/1.1 client, one connection per check, closed after the answer): ready if it
 * answers 2xx within the timeout, which runs from the connect to the status line. A refused
 * connection, a timeout or any other status is "not ready", and the stage fails with a
 * {@link ReadinessCheck.Failed} that says which ({@code connection refused},
 * {@code GET /healthz answered 503}, {@code no answer within 1000 ms}).
 *
 * <h2>Implementation notes</h2>
 * Each check is one channel on one event loop of {@code group}: the connect, the request, the
 * status line, the timer and the close all run on that loop, so a check's state (its handler)
 * needs no lock. The stage completes on that loop, first outcome wins (a
 * {@link CompletableFuture}); the connection is closed whatever happened. Nothing is pooled:
 * a pod is checked once before it serves, and again only after failures, so a kept-alive
 * connection per pod would cost 10,000 idle sockets for 10,000 pods. How many checks run at
 * once is not this class's business (the server wraps it in core's {@code CheckScheduler}).
 */
public final class HttpReadinessCheck implements ReadinessCheck {

    private final Bootstrap bootstrap;
    private final Duration timeout;
    private final Function<RevisionId, String> pathOf;

    /**
     * @param group   the event loops the checks run on (the proxy's I/O threads)
     * @param channel the client channel class of their transport
     */
    public HttpReadinessCheck(EventLoopGroup group, Class<? extends Channel> channel, Duration timeout,
            Function<RevisionId, String> pathOf) {
        this.timeout = timeout;
        this.pathOf = pathOf;
        this.bootstrap = new Bootstrap().group(group).channel(channel)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true);
    }

    @Override
    public CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
        String path = pathOf.apply(revision);
        String target = path == null ? "/" : path;
        int colon = address.lastIndexOf(':');
        int port;
        try {
            port = colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (colon <= 0 || port < 1 || port > 65535) {
            return CompletableFuture.failedFuture(new Failed("not a host:port address: " + address));
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        Probe probe = new Probe(result, address, target);
        ChannelFuture connect = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpClientCodec(), probe);
            }
        }).connect(host, port);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new Failed(connectFailure(f.cause())));
            }
        });
        return result;
    }

    private String connectFailure(Throwable t) {
        if (t instanceof ConnectTimeoutException) {
            return "no connection within " + timeout.toMillis() + " ms";
        }
        if (t instanceof ConnectException) {
            String m = t.getMessage();
            return m == null || m.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused"
                    : "cannot connect: " + m;
        }
        if (t instanceof UnknownHostException) {
            return "unknown host";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** One check's exchange on its connection; event-loop confined. */
    private final class Probe extends SimpleChannelInboundHandler<HttpObject> {
        private final CompletableFuture<Boolean> result;
        private final String address;
        private final String path;
        private ScheduledFuture<?> timer;

        Probe(CompletableFuture<Boolean> result, String address, String path) {
            this.result = result;
            this.address = address;
            this.path = path;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            timer = ctx.executor().schedule(() -> {
                result.completeExceptionally(new Failed("no answer within " + timeout.toMillis() + " ms"));
                ctx.close();
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            req.headers().set(HttpHeaderNames.HOST, address).set(HttpHeaderNames.USER_AGENT, "sluice-readiness")
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(req);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                int code = r.status().code();
                if (code < 200 && code != 101) {
                    return; // an interim answer (100 Continue): the final one follows
                }
                if (code >= 200 && code < 300) {
                    result.complete(Boolean.TRUE);
                } else {
                    result.completeExceptionally(new Failed("GET " + path + " answered " + code));
                }
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (timer != null) {
                timer.cancel(false);
            }
            if (!result.isDone()) { // the usual close follows the answer: no exception to make then
                result.completeExceptionally(new Failed("the connection closed before an answer"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(new Failed(cause.getMessage() != null ? cause.getMessage()
                    : cause.getClass().getSimpleName()));
            ctx.close();
        }
    }
}
