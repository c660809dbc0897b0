package dev.sluice.server.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive connections to pods, for one event loop.
 *
 * <h2>Implementation notes</h2>
 * Every pool belongs to exactly one event loop, and only that loop's thread touches it: the
 * client connection that needs an upstream connection runs on the same loop, and new
 * connections are opened on it too. So the pool is plain {@link HashMap}s and
 * {@link ArrayDeque}s with no lock, and a request never crosses threads between the client
 * and the pod. An idle connection the pod closes removes itself (its close future runs on
 * the same loop). At most {@link #MAX_IDLE_PER_POD} idle connections are kept per pod.
 */
final class UpstreamPool {

    static final int MAX_IDLE_PER_POD = 256;

    private final Bootstrap bootstrap;
    private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();
    private final Map<String, InetSocketAddress> resolved = new HashMap<>();
    private final H2PodConnections h2c;
    private final H2RelayPods relays;
    private final LoopFlusher flusher;

    UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, int connectTimeoutMillis) {
        Bootstrap base = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis);
        this.h2c = new H2PodConnections(base, loop);
        this.flusher = new LoopFlusher(loop);
        this.relays = new H2RelayPods(base.clone(), flusher);
        this.bootstrap = base.handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                // Requests go out as RequestFramer wrote them; responses are framed, not decoded.
                ch.pipeline().addLast("upstream", new UpstreamHandler());
            }
        });
    }

    /** A new stream to the h2c pod at {@code address} (its one connection on this loop, opened if need be). */
    Future<Channel> openStream(String address) {
        return h2c.open(address, resolve(address));
    }

    /** The HTTP/2 connection relayed streams to the h2c pod at {@code address} go on ({@link H2RelayPod}). */
    H2RelayPod relayTo(String address) {
        return relays.connection(address, resolve(address));
    }

    /** This loop's once-a-turn flusher for relayed HTTP/2 streams. */
    LoopFlusher flusher() {
        return flusher;
    }

    /** An idle connection to {@code address}, or null. */
    Channel poll(String address) {
        ArrayDeque<Channel> q = idle.get(address);
        if (q == null) {
            return null;
        }
        for (Channel ch = q.pollLast(); ch != null; ch = q.pollLast()) {
            if (ch.isActive()) {
                return ch;
            }
        }
        return null;
    }

    /** Opens a new connection to {@code address}. */
    ChannelFuture connect(String address) {
        return bootstrap.connect(resolve(address));
    }

    /** Returns a connection whose last exchange completed cleanly. */
    void offer(String address, Channel ch) {
        if (ch instanceof Http2StreamChannel) {
            ch.close(); // a stream serves one request (a no-op once both sides ended it)
            return;
        }
        if (!ch.isActive()) {
            return;
        }
        ArrayDeque<Channel> q = idle.computeIfAbsent(address, a -> new ArrayDeque<>());
        if (q.size() >= MAX_IDLE_PER_POD) {
            ch.close();
            return;
        }
        q.addLast(ch);
        if (ch.attr(UpstreamHandler.POOLED_ONCE).getAndSet(Boolean.TRUE) == null) {
            ch.closeFuture().addListener(f -> {
                ArrayDeque<Channel> d = idle.get(address);
                if (d != null) {
                    d.remove(ch);
                }
            });
        }
    }

    private InetSocketAddress resolve(String address) {
        InetSocketAddress a = resolved.get(address);
        if (a == null) {
            int colon = address.lastIndexOf(':');
            String host = address.substring(0, colon);
            if (host.startsWith("[")) {
                host = host.substring(1, host.length() - 1);
            }
            a = new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
            if (resolved.size() > 10_000) {
                resolved.clear();
            }
            resolved.put(address, a);
        }
        return a;
    }
}
