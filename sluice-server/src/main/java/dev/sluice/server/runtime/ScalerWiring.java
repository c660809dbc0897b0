package dev.sluice.server.runtime;

import dev.sluice.scaler.ActivitySignals;
import dev.sluice.scaler.ScalerServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * KEDA's external scaler as it runs in Sluice (with {@code listen.scaler}): the gRPC server and
 * the thread that runs the activity signals' tick (the grace before {@code false}, the
 * heartbeats) every {@code scalerTickInterval}.
 *
 * <h2>Implementation notes</h2>
 * The gRPC server runs on its own threads (its shaded Netty). The tick runs on a thread of its
 * own, {@code sluice-scaler-tick}, never on an event loop: with a cluster a tick may wait
 * briefly on another replica ({@code ClusterScaler}). {@link #tickNow} runs a tick on that same
 * thread, so ticks never overlap. {@link #close} is called once, by {@link Lifecycle}.
 */
final class ScalerWiring implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScalerWiring.class);

    private final ScalerServer server;
    private final ActivitySignals signals;
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-scaler-tick");
        t.setDaemon(true);
        return t;
    });

    ScalerWiring(ScalerServer server, ActivitySignals signals, Duration tickInterval) {
        this.server = server;
        this.signals = signals;
        long every = tickInterval.toNanos();
        ticker.scheduleAtFixedRate(this::tick, every, every, TimeUnit.NANOSECONDS);
    }

    InetSocketAddress address() {
        return server.address();
    }

    /** Runs one tick now on the tick thread and waits for it. */
    void tickNow() throws InterruptedException {
        try {
            ticker.submit(this::tick).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the scaler's tick failed", e.getCause());
        }
    }

    private void tick() {
        try {
            signals.tick();
        } catch (RuntimeException e) {
            LOG.warn("scaler: tick failed", e);
        }
    }

    /** Stops the tick, then the server (its open streams end). */
    @Override
    public void close() {
        ticker.shutdownNow();
        server.close();
    }
}
