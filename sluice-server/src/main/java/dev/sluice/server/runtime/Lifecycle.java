package dev.sluice.server.runtime;

import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.control.ControlServer;
import dev.sluice.server.proxy.ProxyContext;
import dev.sluice.server.proxy.ProxyServer;
import java.time.Duration;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness and shutdown of a running Sluice: what {@code /readyz} answers, the graceful
 * shutdown's order, and the order in which the parts are closed.
 *
 * <p>Shutdown order: {@code /readyz} fails at once; the proxy keeps serving for the drain
 * period (so load balancers stop sending); then it stops accepting and answers requests still
 * waiting for a pod at once (503 {@code shutting-down}: with no pod free by now, waiting on
 * would only cut them at the end of the grace period); requests on a pod get the grace period;
 * then the parts close in the reverse of the order they started (the control path last but
 * the event loops, so any request still waiting is answered 503 {@code shutting-down}).
 *
 * <h2>Implementation notes</h2>
 * {@code ready} and {@code closed} are read by {@code /readyz} on the control loop. Parts are
 * registered by the starting thread, in a concurrent deque since any thread may close them.
 * {@link #shutdown} is synchronized, so two shutdowns run one after the other; {@link #closeNow}
 * is not (it may cut a shutdown's grace period short), and the compare-and-set on
 * {@code closed} lets exactly one caller close the parts.
 */
final class Lifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);

    /** A part to close, with a name for the log if closing it fails. */
    private record Part(String name, AutoCloseable part) {
    }

    private final RevisionRegistry registry;
    private final ProxyContext proxyContext;
    private final Deque<Part> parts = new ConcurrentLinkedDeque<>();
    private ProxyServer proxy;
    /** What {@code /readyz} adds once serving (Kubernetes watches), or null. */
    private volatile Supplier<ControlServer.Readiness> synced;
    private volatile boolean ready;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Run when shutdown begins, as readiness fails (the replica set: leave it); or null. */
    private volatile Runnable onDrain;

    Lifecycle(RevisionRegistry registry, ProxyContext proxyContext) {
        this.registry = registry;
        this.proxyContext = proxyContext;
    }

    /** Registers a started part; parts close in the reverse order. */
    synchronized void started(String name, AutoCloseable part) {
        parts.push(new Part(name, part));
    }

    /** {@code r} runs when shutdown begins, right after readiness fails. */
    void onDrain(Runnable r) {
        this.onDrain = r;
    }

    /** The proxy accepts; {@code synced}, if not null, decides readiness from now on. */
    synchronized void serving(ProxyServer proxy, Supplier<ControlServer.Readiness> synced) {
        this.proxy = proxy;
        this.synced = synced;
        this.ready = true;
    }

    boolean isReady() {
        return ready;
    }

    /** {@code /readyz}: not while shutting down, nor before every discovery has listed once. */
    ControlServer.Readiness readiness() {
        if (!ready) {
            return new ControlServer.Readiness(false, closed.get() ? "stopped\n" : "shutting down\n");
        }
        Supplier<ControlServer.Readiness> s = synced;
        return s == null ? new ControlServer.Readiness(true, "ready\n") : s.get();
    }

    /**
     * Graceful shutdown: readiness off, serve for {@code drain}, stop accepting and answer the
     * requests that are only waiting for a pod (503 {@code shutting-down}), wait up to
     * {@code grace} for the requests on a pod, then stop. Blocks until done. The periods are
     * the wall clock's: they are waited for with sleeps.
     *
     * @return requests still in flight when the grace period ended (0 = nothing dropped)
     */
    synchronized int shutdown(Duration drain, Duration grace) {
        if (closed.get()) {
            return 0;
        }
        ready = false;
        Runnable leave = onDrain;
        if (leave != null) {
            leave.run();
        }
        LOG.info("shutting down: /readyz fails; serving for {} ms more", drain.toMillis());
        sleep(drain);
        proxy.stopAccepting();
        // A request still waiting for a pod now would only wait out the grace period and be cut
        // at its end: answer it at once (503 shutting-down, Retry-After), and any request that
        // arrives on a connection still open. Requests on a pod keep their leases and finish.
        int waiting = 0;
        for (RevisionThrottler th : registry.throttlers().values()) {
            waiting += th.queued();
            th.close(Rejection.SHUTTING_DOWN);
        }
        if (waiting > 0) {
            LOG.info("answered {} request(s) still waiting for a pod: shutting down", waiting);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (proxyContext.inFlight() > 0 && System.nanoTime() < deadline) {
            sleep(Duration.ofMillis(20));
        }
        int left = proxyContext.inFlight();
        if (left > 0) {
            LOG.warn("grace period of {} ms ended with {} request(s) in flight", grace.toMillis(), left);
        }
        closeNow();
        LOG.info("Sluice stopped");
        return left;
    }

    /**
     * Closes every part now, newest first; harmless if closed already. Not under the lock: it
     * may cut short a {@link #shutdown} that is waiting out its grace period.
     */
    void closeNow() {
        ready = false;
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        while (!parts.isEmpty()) {
            Part p = parts.pop();
            try {
                p.part().close();
            } catch (Exception e) {
                LOG.warn("closing {} failed: {}", p.name(), e.toString());
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
