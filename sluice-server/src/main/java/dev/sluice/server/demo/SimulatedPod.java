package dev.sluice.server.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pod for the demo: a real HTTP server on loopback that takes a random time to answer (log-
 * normal around a median, as model servers do) and enforces its own concurrency limit — a
 * request beyond it is refused with 503 and counted as a violation.
 */
final class SimulatedPod implements AutoCloseable {

    private final String name;
    private final int limit;
    private final Duration median;
    private final HttpServer server;
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "demo-pod");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger violations = new AtomicInteger();
    private volatile String state = "pending";

    SimulatedPod(String name, int limit, Duration median) throws IOException {
        this.name = name;
        this.limit = limit;
        this.median = median;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
        server.setExecutor(workers);
        server.createContext("/", this::handle);
        server.start();
    }

    String name() {
        return name;
    }

    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    int inFlight() {
        return inFlight.get();
    }

    int served() {
        return served.get();
    }

    int violations() {
        return violations.get();
    }

    String state() {
        return state;
    }

    void state(String s) {
        state = s;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            if (ex.getRequestURI().getPath().equals("/healthz")) {
                ex.sendResponseHeaders(state.equals("gone") ? 503 : 200, -1);
                return;
            }
            int now = inFlight.incrementAndGet();
            boolean counted = true;
            try {
                if (limit > 0 && now > limit) {
                    violations.incrementAndGet();
                    ex.sendResponseHeaders(503, -1);
                    return;
                }
                double sigma = 0.5;
                double factor = Math.exp(sigma * ThreadLocalRandom.current().nextGaussian());
                Thread.sleep(Math.max(0, (long) (median.toMillis() * factor)));
                byte[] body = (name + "\n").getBytes(StandardCharsets.UTF_8);
                // The work is done: stop counting before the last bytes leave, since the proxy
                // may send the next request as soon as it has them.
                served.incrementAndGet();
                inFlight.decrementAndGet();
                counted = false;
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(500, -1);
            } finally {
                if (counted) {
                    inFlight.decrementAndGet();
                }
            }
        }
    }

    @Override
    public void close() {
        state = "gone";
        server.stop(0);
        workers.shutdownNow();
    }
}
