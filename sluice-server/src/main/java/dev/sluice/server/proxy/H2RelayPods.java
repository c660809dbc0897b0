package dev.sluice.server.proxy;

import io.netty.bootstrap.Bootstrap;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * One event loop's HTTP/2 connections to h2c pods for relayed streams ({@link H2RelayPod}): one
 * per pod, replaced when it retires. Beside {@link H2PodConnections}, which carries the
 * streams that are translated from or to HTTP/1.1, so a pod may see two connections per loop.
 *
 * <h2>Implementation notes</h2>
 * Owned by the loop's {@link UpstreamPool} and used by that loop's thread only: a plain map.
 */
final class H2RelayPods {

    private final Bootstrap bootstrap;
    private final LoopFlusher flusher;
    private final Map<String, H2RelayPod> pods = new HashMap<>();

    H2RelayPods(Bootstrap base, LoopFlusher flusher) {
        this.bootstrap = base;
        this.flusher = flusher;
    }

    /** The connection new streams to {@code address} go on (opened now if there is none). */
    H2RelayPod connection(String address, InetSocketAddress resolved) {
        H2RelayPod c = pods.get(address);
        if (c == null) {
            c = new H2RelayPod(this, address, flusher);
            pods.put(address, c);
            c.connect(bootstrap, resolved);
        }
        return c;
    }

    /** {@code c} takes no new stream: the next one to its pod opens a new connection. */
    void retired(H2RelayPod c) {
        pods.remove(c.address, c);
    }
}
