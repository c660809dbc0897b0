package dev.sluice.server.proxy;

import dev.sluice.server.config.ClientLimits;
import dev.sluice.server.metrics.Outcome;
import dev.sluice.server.platform.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;

/** The proxy's listening socket. */
public final class ProxyServer {

    /** The name of the handler that watches the client's bytes for its timers. */
    static final String BYTES = "bytes";

    private final Channel channel;
    private final ProxyContext px;

    private ProxyServer(Channel channel, ProxyContext px) {
        this.channel = channel;
        this.px = px;
    }

    /** Binds and starts accepting. */
    public static ProxyServer start(InetSocketAddress address, EventLoopGroup boss, EventLoopGroup workers,
            Transport transport, ProxyContext px) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 128 * 1024))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ClientLimits limits = px.clientLimits();
                        if (!px.connectionOpened(limits.maxConnections())) {
                            // Said before the client's request is read: it may see a reset
                            // instead if it had already sent one.
                            px.clientMetrics.connectionRefused();
                            ch.pipeline().addLast("encoder", new HttpResponseEncoder());
                            ch.writeAndFlush(Answers.of(HttpResponseStatus.SERVICE_UNAVAILABLE,
                                    Outcome.TOO_MANY_CONNECTIONS, "Sluice has " + limits.maxConnections()
                                    + " client connections open (client.maxConnections)\n", false))
                                    .addListener(ChannelFutureListener.CLOSE);
                            return;
                        }
                        ch.closeFuture().addListener(px.connectionClosed);
                        ClientHandler client = new ClientHandler(px, limits);
                        // Requests are framed, not decoded (RequestFramer). The encoder sits after
                        // the proxy handler: Sluice's own answers are written with channel.write
                        // (from the tail, through the encoder), a pod's response bytes with the
                        // handler's ctx.write, which starts below the encoder and so passes them
                        // through untouched (ResponseFramer).
                        // Ahead of the framer, which holds a partial head back: the client's timers
                        // must see every byte come.
                        // h2c with prior knowledge is told apart by its first bytes; the sniffer
                        // leaves the pipeline at once for HTTP/1 (H2ClientConnection otherwise).
                        ch.pipeline().addLast("sniff", new PrefaceSniffer(px, limits));
                        ch.pipeline().addLast(BYTES, client.bytesWatch());
                        ch.pipeline().addLast("decoder", new RequestDecoder());
                        ch.pipeline().addLast("proxy", client);
                        ch.pipeline().addLast("encoder", new HttpResponseEncoder());
                    }
                });
        return new ProxyServer(b.bind(address).sync().channel(), px);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /**
     * Stops accepting new connections; connections already open keep being served, and HTTP/2
     * clients are told (GOAWAY) that their open streams are the last.
     */
    public void stopAccepting() {
        channel.close().syncUninterruptibly();
        px.goAway();
    }
}
