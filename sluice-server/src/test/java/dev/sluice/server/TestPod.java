package dev.sluice.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP pod on loopback for tests. It enforces its own concurrency limit the way a GPU
 * model server would: a request beyond it is answered 500 and counted as a violation. With
 * {@link #hold()} every request waits until the test calls {@link #release(int)}.
 */
public final class TestPod implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final int limit;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger violations = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger arrived = new AtomicInteger();
    private final Semaphore gate = new Semaphore(Integer.MAX_VALUE);
    private final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
    private final List<String> paths = new CopyOnWriteArrayList<>();
    private volatile long lastBodyLength;
    private volatile String lastBody = "";
    private final String name;
    private final String host;
    private volatile Semaphore chunkGate;
    private volatile long delayMillis;

    public TestPod(String name, int limit) throws IOException {
        this(name, limit, "127.0.0.1");
    }

    /** A pod on an address of its own ({@code 127.0.0.2}…: every pod has its own IP on Kubernetes). */
    public TestPod(String name, int limit, String host) throws IOException {
        this.name = name;
        this.limit = limit;
        this.host = host;
        server = HttpServer.create(new InetSocketAddress(host, 0), 1024);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public String address() {
        return host + ":" + server.getAddress().getPort();
    }

    public String ip() {
        return host;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String name() {
        return name;
    }

    /** From now on requests wait for {@link #release(int)}. */
    public void hold() {
        gate.drainPermits();
    }

    /** Lets {@code n} held requests finish. */
    public void release(int n) {
        gate.release(n);
    }

    /** Lets every request through from now on. */
    public void open() {
        gate.release(Integer.MAX_VALUE / 2);
    }

    /** Every request takes {@code millis} before it is answered (a slow model), so overlaps show. */
    public void serveIn(long millis) {
        delayMillis = millis;
    }

    /** Streamed responses send their second chunk only after {@link #releaseChunk()}. */
    public void streamInTwoChunks() {
        chunkGate = new Semaphore(0);
    }

    public void releaseChunk() {
        chunkGate.release();
    }

    public int violations() {
        return violations.get();
    }

    public int served() {
        return served.get();
    }

    public int arrived() {
        return arrived.get();
    }

    public int inFlight() {
        return inFlight.get();
    }

    public Map<String, String> lastHeaders() {
        return lastHeaders;
    }

    /** The paths of the requests that arrived, in arrival order. */
    public List<String> paths() {
        return paths;
    }

    /** The last request's body (its first 64 KiB), as ISO-8859-1 text. */
    public String lastBody() {
        return lastBody;
    }

    /** How many body bytes the last request carried. */
    public long lastBodyLength() {
        return lastBodyLength;
    }

    private void handle(HttpExchange ex) throws IOException {
        if (ex.getRequestURI().getPath().equals("/healthz")) {
            ex.sendResponseHeaders(200, -1); // readiness probes are not work
            ex.close();
            return;
        }
        arrived.incrementAndGet();
        paths.add(ex.getRequestURI().getPath());
        int now = inFlight.incrementAndGet();
        boolean counted = true;
        try {
            byte[] head = ex.getRequestBody().readNBytes(64 << 10);
            lastBody = new String(head, StandardCharsets.ISO_8859_1);
            lastBodyLength = head.length + ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
            lastHeaders.clear();
            ex.getRequestHeaders().forEach((k, v) -> lastHeaders.put(k.toLowerCase(), String.join(",", v)));
            if (limit > 0 && now > limit) {
                violations.incrementAndGet();
                byte[] b = "over my limit\n".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(500, b.length);
                ex.getResponseBody().write(b);
                return;
            }
            gate.acquireUninterruptibly();
            long delay = delayMillis;
            if (delay > 0) {
                Thread.sleep(delay);
            }
            Semaphore chunks = chunkGate;
            if (chunks != null) {
                ex.getResponseHeaders().set("Content-Type", "text/plain");
                ex.sendResponseHeaders(200, 0); // chunked
                OutputStream out = ex.getResponseBody();
                out.write("first\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (!chunks.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new IOException("test never released the second chunk");
                }
                out.write("second\n".getBytes(StandardCharsets.UTF_8));
                out.close();
            } else {
                // Stop counting before the last bytes leave: the proxy may send the next
                // request as soon as it has them.
                byte[] b = (name + "\n").getBytes(StandardCharsets.UTF_8);
                served.incrementAndGet();
                inFlight.decrementAndGet();
                counted = false;
                ex.getResponseHeaders().set("X-Pod", name);
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
                return;
            }
            served.incrementAndGet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (counted) {
                inFlight.decrementAndGet();
            }
            ex.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
