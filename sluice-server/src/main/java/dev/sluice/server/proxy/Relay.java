package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes between one client connection and the pod connection its current exchange holds,
 * and the one owner of back-pressure for the pair: every {@code setAutoRead} of the proxy is
 * here, so which side reads, and why, can be read in one place.
 *
 * <p>The rules: the client is read while Sluice can take what it sends (no request running,
 * or a body being buffered), held while a request waits for a pod or a pipelined request
 * waits its turn, and, while its body streams, read as long as the pod's connection is
 * writable. The pod is read as long as the client's connection is writable. A tunnel reads
 * both and pauses each side on the other's writability the same way.
 *
 * <p>Writes: {@code ctx.write} sends bytes as they are (a pod's framed response goes below the
 * client's response encoder); Sluice's own answers take {@code ctx.channel().write}, through it.
 *
 * <h2>Implementation notes</h2>
 * One per client connection, made with its {@link ClientHandler}, so a request adds no
 * object; used on the connection's event loop only (the pod's connection is on the same loop,
 * see {@link UpstreamPool}): plain fields. Auto-read is switched only when it changes
 * something: every switch costs the transport work (with epoll an {@code epoll_ctl} system
 * call). A pause after a write first flushes: if that drains the buffer no writability event
 * would follow, and the pause would never be undone.
 */
final class Relay {

    private final ChannelHandlerContext ctx;
    private final Channel client;
    /** The pod connection the current exchange holds, or null. */
    private Channel pod;
    /** While the client's codec comes out, its leftover bytes wait here (the encoder must not see them). */
    private List<ByteBuf> switching;

    Relay(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.client = ctx.channel();
    }

    // ------------------------------------------------------------------ reading the client

    /** Stop reading the client: a request waits for a pod, or a pipelined one for its turn. */
    void holdClient() {
        client.config().setAutoRead(false);
    }

    /** Read the client: nothing is running, or a body is read into the request buffer. */
    void readClient() {
        client.config().setAutoRead(true);
    }

    /** Whether Sluice, not the client, is why no bytes come (the body stall timer then waits). */
    boolean clientHeld() {
        return !client.config().isAutoRead();
    }

    // ------------------------------------------------------------------ the pod connection

    void attach(Channel ch) {
        pod = ch;
    }

    /** The pod connection, or null. */
    Channel pod() {
        return pod;
    }

    /** The request's body streams to the pod from now: read the client while the pod can take it. */
    void bodyStreams() {
        client.config().setAutoRead(pod.isWritable());
    }

    /**
     * Gives the pod connection up: unbound from the exchange, and closed unless {@code reuse};
     * a reused one is returned reading again (a response may have paused it), else null.
     */
    Channel detach(boolean reuse) {
        Channel up = pod;
        pod = null;
        if (up == null) {
            return null;
        }
        up.pipeline().get(UpstreamHandler.class).unbind();
        if (reuse) {
            up.config().setAutoRead(true);
            return up;
        }
        up.close();
        return null;
    }

    /** The pod connection closed by itself: forget it. */
    void podClosed() {
        Channel up = pod;
        pod = null;
        if (up != null) {
            up.pipeline().get(UpstreamHandler.class).unbind();
        }
    }

    // ------------------------------------------------------------------ client → pod

    /** Part of the request's body: to the pod, flushed at its end, else paused if the pod is full. */
    void toPod(ByteBuf bytes, boolean last) {
        pod.write(bytes, pod.voidPromise());
        if (last) {
            pod.flush();
        } else {
            pauseIfUnwritable(pod, client);
        }
    }

    /** The client's read ended: send what it brought. */
    void flushPod() {
        if (pod != null) {
            pod.flush();
        }
    }

    /**
     * The pod's connection became writable or not; {@code clientFlowing}: the client's bytes
     * still go to it (a body, or a tunnel). Returns whether the client is read again.
     */
    boolean podWritabilityChanged(boolean writable, boolean clientFlowing) {
        if (!clientFlowing) {
            return false;
        }
        client.config().setAutoRead(writable);
        return writable;
    }

    // ------------------------------------------------------------------ pod → client

    /** Response bytes: to the client as they are, and the pod paused if the client is full. */
    void toClient(ByteBuf bytes) {
        ctx.write(bytes, ctx.voidPromise());
        pauseIfUnwritable(client, pod);
    }

    /** The pod's read ended: send what it brought. */
    void flushClient() {
        ctx.flush();
    }

    void clientWritabilityChanged() {
        if (pod != null) {
            pod.config().setAutoRead(client.isWritable());
        }
    }

    // ------------------------------------------------------------------ tunnel

    /**
     * The pod accepted an upgrade (its 101 is written): take the client's HTTP codecs out
     * (looked up by type) and relay bytes both ways, reading both sides.
     */
    void openTunnel() {
        ctx.flush();
        switching = new ArrayList<>(1);
        ctx.pipeline().remove(HttpResponseEncoder.class);
        ctx.pipeline().remove(RequestDecoder.class); // leftover client bytes land in switching
        List<ByteBuf> leftover = switching;
        switching = null;
        for (int i = 0, n = leftover.size(); i < n; i++) {
            pod.write(leftover.get(i));
        }
        pod.flush();
        client.config().setAutoRead(true);
        pod.config().setAutoRead(true);
    }

    /** Bytes from the client once the exchange is a tunnel. */
    void tunnelToPod(ByteBuf b) {
        if (switching != null) {
            switching.add(b);
            return;
        }
        pod.write(b, pod.voidPromise());
        pauseIfUnwritable(pod, client);
    }

    /** After writing to {@code target}: if it cannot take more, stop reading {@code source} until it can. */
    private static void pauseIfUnwritable(Channel target, Channel source) {
        if (!target.isWritable()) {
            target.flush();
            if (!target.isWritable() && source != null) {
                source.config().setAutoRead(false);
            }
        }
    }
}
