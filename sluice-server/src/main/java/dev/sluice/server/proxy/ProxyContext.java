package dev.sluice.server.proxy;

import dev.sluice.core.NanoClock;
import dev.sluice.core.control.StateManager;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.atomic.AtomicInteger;

/** What every client connection of the proxy shares. */
public final class ProxyContext {

    private final FastThreadLocal<UpstreamPool> pools = new FastThreadLocal<>();
    private final Class<? extends Channel> upstreamChannelClass;
    private final int connectTimeoutMillis;
    private final AtomicInteger inFlight = new AtomicInteger();
    final StateManager control;
    final NanoClock clock;
    private volatile Routes routes = Routes.empty();

    public ProxyContext(StateManager control, NanoClock clock, Class<? extends Channel> upstreamChannelClass,
            int connectTimeoutMillis) {
        this.control = control;
        this.clock = clock;
        this.upstreamChannelClass = upstreamChannelClass;
        this.connectTimeoutMillis = connectTimeoutMillis;
    }

    public Routes routes() {
        return routes;
    }

    /** Publishes a new routing table (configuration change). */
    public void routes(Routes routes) {
        this.routes = routes;
    }

    /** Requests accepted and not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    void started() {
        inFlight.incrementAndGet();
    }

    void ended() {
        inFlight.decrementAndGet();
    }

    /** The calling event loop's pool (created on first use; only that loop touches it). */
    UpstreamPool pool(EventLoop loop) {
        UpstreamPool p = pools.get();
        if (p == null) {
            p = new UpstreamPool(loop, upstreamChannelClass, connectTimeoutMillis);
            pools.set(p);
        }
        return p;
    }
}
