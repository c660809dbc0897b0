package dev.sluice.server.proxy;

import dev.sluice.core.NanoClock;
import dev.sluice.core.control.StateManager;
import dev.sluice.server.config.ClientLimits;
import dev.sluice.server.metrics.ClientMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/** What every client connection of the proxy shares. */
public final class ProxyContext {

    private final FastThreadLocal<UpstreamPool> pools = new FastThreadLocal<>();
    private final FastThreadLocal<Deadlines> deadlines = new FastThreadLocal<>();
    private final Class<? extends Channel> upstreamChannelClass;
    private final int connectTimeoutMillis;
    /** A striped counter: every request changes it twice, from every event loop. */
    private final LongAdder inFlight = new LongAdder();
    final StateManager control;
    final NanoClock clock;
    /** Told the status of each request refused before routing (a malformed head). */
    final IntConsumer refused;
    final ClientMetrics clientMetrics;
    /** The replica set's side of forwarding; set before the proxy starts (not changed after). */
    Forwarding forwarding = Forwarding.NONE;
    private volatile Routes routes = Routes.empty();
    /** Read once per new connection; a reload changes what later connections get. */
    private volatile ClientLimits clientLimits;
    /** Client connections open: changed once per connection (not per request), so one atomic will do. */
    private final AtomicInteger connections = new AtomicInteger();
    /** One listener for every connection's close: counting a connection allocates nothing. */
    final ChannelFutureListener connectionClosed = f -> connections.decrementAndGet();
    /** Client connections that speak HTTP/2 (a closed one leaves the group by itself). */
    private final ChannelGroup http2Clients = new DefaultChannelGroup("sluice-h2-clients", GlobalEventExecutor.INSTANCE);

    public ProxyContext(StateManager control, NanoClock clock, Class<? extends Channel> upstreamChannelClass,
            int connectTimeoutMillis, IntConsumer refused) {
        this(control, clock, upstreamChannelClass, connectTimeoutMillis, refused, ClientLimits.DEFAULTS,
                ClientMetrics.NONE);
    }

    public ProxyContext(StateManager control, NanoClock clock, Class<? extends Channel> upstreamChannelClass,
            int connectTimeoutMillis, IntConsumer refused, ClientLimits clientLimits, ClientMetrics clientMetrics) {
        this.control = control;
        this.clock = clock;
        this.refused = refused;
        this.upstreamChannelClass = upstreamChannelClass;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.clientLimits = clientLimits;
        this.clientMetrics = clientMetrics;
    }

    /** Sets the replica set's side of forwarding; before the proxy starts. */
    public void forwarding(Forwarding f) {
        this.forwarding = f;
    }

    public ClientLimits clientLimits() {
        return clientLimits;
    }

    /** What connections accepted from now on are allowed (configuration change). */
    public void clientLimits(ClientLimits limits) {
        this.clientLimits = limits;
    }

    /** Client connections open now. */
    public int connections() {
        return connections.get();
    }

    /**
     * Counts a new connection in, unless {@code max} are open already; a counted connection
     * must add {@link #connectionClosed} to its close future.
     */
    boolean connectionOpened(int max) {
        if (connections.incrementAndGet() > max) {
            connections.decrementAndGet();
            return false;
        }
        return true;
    }

    /** A client connection turned out to speak HTTP/2. */
    void http2Client(Channel ch) {
        http2Clients.add(ch);
    }

    /**
     * Tells every HTTP/2 client that no new stream will be served (GOAWAY, NO_ERROR): their
     * open streams go on, and each connection closes once its last stream has ended. Shutdown
     * does this when the listener closes; an HTTP/1.1 connection learns it on its next request.
     */
    public void goAway() {
        for (Channel ch : http2Clients) {
            ch.eventLoop().execute(() -> ch.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)));
        }
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
        return inFlight.intValue();
    }

    void started() {
        inFlight.increment();
    }

    void ended() {
        inFlight.decrement();
    }

    /** The calling event loop's request deadlines (created on first use; only that loop touches them). */
    Deadlines deadlines(EventLoop loop) {
        Deadlines d = deadlines.get();
        if (d == null) {
            d = new Deadlines(loop, clock);
            deadlines.set(d);
        }
        return d;
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
