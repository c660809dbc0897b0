package dev.sluice.server.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes between one client connection and the pod connection its current exchange holds
 * (a request's body that came before the pod was reached included),
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
    /**
     * Body bytes that came before the pod was reached; after they are sent, copies stay while
     * a replay may need them. Per connection, not per request: an exchange empties it in its
     * end, before the next one starts.
     */
    private final List<ByteBuf> early = new ArrayList<>(2);
    /** Memory {@link #early} holds: at least its bytes (see {@link #holdEarly}). */
    private int earlyMemory;

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

    /** Whether the pod connection can be half-closed: a TCP connection (an h2c stream cannot). */
    boolean podOutputCanShutdown() {
        return pod instanceof DuplexChannel;
    }

    /**
     * The client left while the pod works on its whole request: after what was written to the
     * pod, its connection's output is shut (the pod reads an EOF), and it is read whatever the
     * client's state, so its answer, dropped by the exchange, or its close comes through.
     */
    void orphan() {
        Channel up = pod;
        up.config().setAutoRead(true);
        up.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (up.isActive()) {
                ((DuplexChannel) up).shutdownOutput();
            }
        });
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

    /**
     * Keeps body bytes until a pod is reached; returns the memory held so far, counted by what
     * is kept alive: a slice keeps its whole read buffer, so a body trickled a few bytes per
     * read cannot hold many times the limit.
     */
    int holdEarly(ByteBuf bytes) {
        early.add(bytes);
        ByteBuf root = bytes.unwrap();
        earlyMemory += Math.max(bytes.readableBytes(), root == null ? 0 : root.capacity());
        return earlyMemory;
    }

    /**
     * Writes the request's {@code head} and the body held so far to the pod, and flushes.
     * {@code headSent}: told how the head's write went (null: no promise is made, the common
     * case); {@code keepCopies}: the body stays held for a replay.
     */
    void sendRequest(ByteBuf head, ChannelFutureListener headSent, boolean keepCopies) {
        Channel ch = pod;
        ch.write(head, headSent == null ? ch.voidPromise() : ch.newPromise().addListener(headSent));
        List<ByteBuf> body = early;
        // Indexed loops: an iterator here was the largest allocation per request.
        for (int i = 0, n = body.size(); i < n; i++) {
            ch.write(keepCopies ? body.get(i).retainedDuplicate() : body.get(i), ch.voidPromise());
        }
        if (!keepCopies) {
            body.clear();
            earlyMemory = 0;
        }
        ch.flush();
    }

    /** Drops the body bytes held (the response started, or the exchange ended). */
    void releaseEarly() {
        List<ByteBuf> e = early;
        if (!e.isEmpty()) {
            for (int i = 0, n = e.size(); i < n; i++) {
                e.get(i).release();
            }
            e.clear();
        }
        earlyMemory = 0;
    }

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
