package dev.sluice.server.cluster;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pod on loopback that records the most requests it ever had at once. Each request takes
 * {@code workMillis} (the pod's work, as a model server's would) and is answered 200 whatever the
 * count, so an overshoot shows in {@link #max()}, not as an error. The count drops before the
 * answer's bytes leave: a proxy may send the next request as soon as it has them.
 */
final class RecordingPod implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final AtomicInteger now = new AtomicInteger();
    private final AtomicInteger max = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private final String name;
    private final long workMillis;

    RecordingPod(String name, long workMillis) throws IOException {
        this.name = name;
        this.workMillis = workMillis;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    int max() {
        return max.get();
    }

    int served() {
        return served.get();
    }

    /** Starts a new measurement of the maximum (between phases of a test). */
    void resetMax() {
        max.set(now.get());
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (ex.getRequestURI().getPath().equals("/healthz")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            int n = now.incrementAndGet();
            max.accumulateAndGet(n, Math::max);
            try {
                ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
                Thread.sleep(workMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                now.decrementAndGet();
            }
            served.incrementAndGet();
            byte[] b = (name + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
