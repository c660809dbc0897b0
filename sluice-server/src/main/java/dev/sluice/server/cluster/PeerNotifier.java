package dev.sluice.server.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * Short HTTP/1.1 POSTs to the other replicas' control APIs, each over a kept-alive Netty
 * connection of its own per peer ({@code TCP_NODELAY}, Netty's HTTP client codec): the activity
 * notices, whose latency is KEDA's {@code true} on the other replicas' streams.
 *
 * <p>Why not the JDK's {@code HttpClient}, which the rest of the cluster uses: it kept its
 * connection alive too, but each exchange went through its selector thread and its executor
 * (two thread hand-offs each way), which on a loaded 2-core machine cost 1.8-3.3 ms from
 * {@code sendAsync} to the peer's control loop reading the request. Here the caller's write is
 * one hand-off to the connection's event loop and the answer one back.
 *
 * <h2>Implementation notes</h2>
 * {@link #post} and {@link #close} run on one thread (the scaler's {@code sluice-scaler-peers});
 * the map of links is that thread's alone. Each link's connection lives on an event loop of
 * {@code group}; its handler completes the one answer outstanding on it (the caller waits for
 * every answer before it posts again, so there is never more than one), and a connection that
 * closes or fails completes it with why. {@link #post} writes to every peer first and then
 * waits for each answer, so peers are told in parallel and a slow one delays only the reading
 * of the answers after it. A connection is opened on a peer's first notice and kept; a reused
 * one that fails before its answer is replaced and the request sent once more (the peer may
 * have closed it while idle; a notice is idempotent). Links of peers no longer given are closed.
 */
final class PeerNotifier implements AutoCloseable {

    private static final int MAX_ANSWER = 64 * 1024;

    private final Duration timeout;
    private final Bootstrap bootstrap;
    private final Map<String, Link> links = new HashMap<>();

    PeerNotifier(Duration timeout, EventLoopGroup group, Class<? extends Channel> channel) {
        this.timeout = timeout;
        this.bootstrap = new Bootstrap().group(group).channel(channel)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
    }

    /**
     * POSTs {@code body} to {@code path} on each control address ({@code host:port}); tells
     * {@code failed} of each that did not answer 200, with why. Blocks for at most about twice the
     * timeout.
     */
    void post(List<String> controls, String path, String bearer, String body, BiConsumer<String, String> failed) {
        for (Iterator<Link> it = links.values().iterator(); it.hasNext(); ) {
            Link l = it.next();
            if (!controls.contains(l.control)) {
                l.close();
                it.remove();
            }
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        List<Link> sent = new ArrayList<>();
        for (String control : controls) {
            Link l = links.computeIfAbsent(control, Link::new);
            l.send(path, bearer, bytes);
            sent.add(l);
        }
        for (Link l : sent) {
            String why = l.answer();
            if (why != null && l.reused) {
                l.close(); // kept alive and found closed: once more, on a new connection
                l.send(path, bearer, bytes);
                why = l.answer();
            }
            if (why != null) {
                l.close();
                failed.accept(l.control, why);
            }
        }
    }

    @Override
    public void close() {
        for (Link l : links.values()) {
            l.close();
        }
        links.clear();
    }

    /** One peer: its kept-alive connection, if any, and whether the request out went on it reused. */
    private final class Link {
        final String control;
        Connection connection;
        boolean reused;

        Link(String control) {
            this.control = control;
        }

        /** Writes the request (opening a connection first if there is none alive). */
        void send(String path, String bearer, byte[] body) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
                    Unpooled.wrappedBuffer(body));
            req.headers().set(HttpHeaderNames.HOST, control).set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            if (bearer != null) {
                req.headers().set(HttpHeaderNames.AUTHORIZATION, bearer);
            }
            reused = connection != null && connection.channel.isActive();
            if (reused) {
                connection.pending = answer;
                connection.write(req);
                return;
            }
            close();
            int colon = control.lastIndexOf(':');
            String host = control.substring(0, Math.max(colon, 0));
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(control.substring(colon + 1));
            } catch (NumberFormatException e) {
                req.release();
                connection = new Connection(null, answer);
                answer.complete("no port in " + control);
                return;
            }
            Connection c = new Connection(null, answer);
            ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_ANSWER), c.new Answers());
                }
            }).connect(host, port);
            c.channel = f.channel();
            connection = c;
            f.addListener(done -> {
                if (done.isSuccess()) {
                    c.write(req);
                } else {
                    req.release();
                    answer.complete("cannot connect: " + done.cause());
                }
            });
        }

        /** Waits for the answer to the request out: null when it was 200, else why not. */
        String answer() {
            try {
                return connection.pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return "no answer within " + timeout.toMillis() + " ms";
            } catch (ExecutionException e) {
                return String.valueOf(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }

        void close() {
            if (connection != null && connection.channel != null) {
                connection.channel.close();
            }
            connection = null;
        }
    }

    /**
     * One connection to a peer and the answer outstanding on it. {@code pending} is set by the
     * posting thread before each write and completed on the event loop; a connection's events
     * complete only its own answer, so a closed connection's late events touch no newer one.
     */
    private static final class Connection {
        volatile Channel channel;
        volatile CompletableFuture<String> pending;

        Connection(Channel channel, CompletableFuture<String> pending) {
            this.channel = channel;
            this.pending = pending;
        }

        void write(FullHttpRequest req) {
            CompletableFuture<String> answer = pending;
            channel.writeAndFlush(req).addListener(w -> {
                if (!w.isSuccess()) {
                    answer.complete("the request could not be written: " + w.cause());
                }
            });
        }

        /** The connection's handler, on its event loop. */
        private final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                if (r.status().equals(HttpResponseStatus.OK)) {
                    pending.complete(null);
                } else {
                    pending.complete("answered " + r.status() + ": " + r.content().toString(StandardCharsets.UTF_8).strip());
                }
                if (r.headers().contains(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true)) {
                    ctx.close();
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                pending.complete("the connection closed before the answer");
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                pending.complete(String.valueOf(cause));
                ctx.close();
            }
        }
    }
}
