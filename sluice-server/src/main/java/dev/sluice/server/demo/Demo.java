package dev.sluice.server.demo;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.Durations;
import dev.sluice.server.runtime.SluiceServer;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's script: pods start NOT_READY and report READY after a warm-up; a third of the way
 * in, the first pod reports DRAINING, finishes what it has and leaves; halfway, a new pod
 * joins. Clients send requests in a closed loop all the while. Every pod enforces its own
 * concurrency limit, so any request Sluice sent beyond it shows up as a violation.
 */
public final class Demo {

    private static final RevisionId REV = new RevisionId("default", "demo");

    /** What to run. */
    public record Options(int pods, int containerConcurrency, Duration latency, int clients, Duration duration) {
        public Options {
            if (pods < 1 || containerConcurrency < 1 || clients < 1) {
                throw new IllegalArgumentException("pods, cc and clients must be at least 1");
            }
            if (duration.toMillis() < 1000) {
                throw new IllegalArgumentException("duration must be at least 1s");
            }
        }
    }

    /** How it went. Zero errors and zero violations is the expected outcome. */
    public record Summary(long served, long errors, int violations, Map<Integer, Long> errorsByStatus) {
        public boolean clean() {
            return errors == 0 && violations == 0;
        }
    }

    private final Options o;
    private final PrintStream out;
    private final boolean ansi;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<SimulatedPod> pods = new CopyOnWriteArrayList<>();
    private final LatencyWindow window = new LatencyWindow();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final Map<Integer, Long> errorsByStatus = new ConcurrentHashMap<>();
    private SluiceServer sluice;
    private volatile boolean running = true;

    public Demo(Options o, PrintStream out, boolean ansi) {
        this.o = o;
        this.out = out;
        this.ansi = ansi;
    }

    public Summary run() throws Exception {
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "revisions: [{namespace: default, name: demo, containerConcurrency: " + o.containerConcurrency()
                + ", readinessPath: /healthz, timeouts: {queue: 30s, total: 60s}}]\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("(demo)", yaml)).ioThreads(2).start();
        ExecutorService clients = Executors.newFixedThreadPool(o.clients());
        try {
            for (int i = 0; i < o.pods(); i++) {
                startPod(i, Duration.ofMillis(300 + 200L * i));
            }
            long start = System.nanoTime();
            long end = start + o.duration().toNanos();
            for (int c = 0; c < o.clients(); c++) {
                clients.execute(() -> clientLoop(end));
            }
            boolean drained = false;
            boolean joined = false;
            long nextTable = start;
            while (System.nanoTime() < end) {
                long elapsed = System.nanoTime() - start;
                if (!drained && elapsed > o.duration().toNanos() / 3) {
                    drained = true;
                    drainAndLeave(pods.get(0));
                }
                if (!joined && elapsed > o.duration().toNanos() / 2) {
                    joined = true;
                    startPod(o.pods(), Duration.ofMillis(500));
                }
                if (System.nanoTime() >= nextTable) {
                    printTable(elapsed);
                    nextTable += TimeUnit.SECONDS.toNanos(1);
                }
                Thread.sleep(50);
            }
            running = false;
            clients.shutdown();
            clients.awaitTermination(2, TimeUnit.MINUTES);
            printTable(o.duration().toNanos());
            int violations = pods.stream().mapToInt(SimulatedPod::violations).sum();
            Summary s = new Summary(served.get(), errors.get(), violations, Map.copyOf(errorsByStatus));
            out.printf("%nServed %d requests, %d errors%s, %d concurrency violations. %s%n", s.served(), s.errors(),
                    s.errorsByStatus().isEmpty() ? "" : " " + s.errorsByStatus(), s.violations(),
                    s.clean() ? "As expected: nothing lost, no pod ever over its limit."
                            : "UNEXPECTED: see above.");
            return s;
        } finally {
            running = false;
            clients.shutdownNow();
            sluice.shutdown(Duration.ZERO, Duration.ofSeconds(5));
            pods.forEach(SimulatedPod::close);
        }
    }

    private void startPod(int index, Duration warmUp) throws Exception {
        SimulatedPod p = new SimulatedPod("pod-" + (index + 1), o.containerConcurrency(), o.latency());
        pods.add(p);
        report(p, "not-ready"); // warming up: known, not yet routable
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(warmUp.toMillis());
                p.state("ready");
                report(p, "ready");
            } catch (Exception e) {
                out.println("demo: pod " + p.name() + " could not report ready: " + e);
            }
        }, "demo-warmup");
        t.setDaemon(true);
        t.start();
    }

    /** The pod reports DRAINING itself (as a preStop hook would), finishes, then leaves. */
    private void drainAndLeave(SimulatedPod p) {
        Thread t = new Thread(() -> {
            try {
                p.state("draining");
                report(p, "draining");
                RevisionThrottler th = sluice.throttlers().get(REV);
                while (running && th.table().find(p.address()) != null) {
                    Thread.sleep(20);
                }
                p.close();
            } catch (Exception e) {
                out.println("demo: pod " + p.name() + " could not drain: " + e);
            }
        }, "demo-drain");
        t.setDaemon(true);
        t.start();
    }

    private void report(SimulatedPod p, String state) throws Exception {
        String body = "{\"revision\":\"" + REV + "\",\"podId\":\"" + p.name() + "\",\"address\":\"" + p.address()
                + "\",\"state\":\"" + state + "\"}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.controlAddress().getPort() + "/v1/pods")).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("control API answered " + r.statusCode() + ": " + r.body());
        }
    }

    private void clientLoop(long end) {
        URI uri = URI.create("http://127.0.0.1:" + sluice.proxyAddress().getPort() + "/infer");
        HttpRequest req = HttpRequest.newBuilder(uri).header("Sluice-Revision", REV.toString())
                .timeout(Duration.ofSeconds(90)).build();
        while (running && System.nanoTime() < end) {
            long t0 = System.nanoTime();
            try {
                HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    served.incrementAndGet();
                    window.add(System.nanoTime() - t0);
                } else {
                    errors.incrementAndGet();
                    errorsByStatus.merge(r.statusCode(), 1L, Long::sum);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                errors.incrementAndGet();
                errorsByStatus.merge(0, 1L, Long::sum);
            }
        }
    }

    private void printTable(long elapsedNanos) {
        RevisionThrottler th = sluice.throttlers().get(REV);
        double[] w = window.drain();
        StringBuilder sb = new StringBuilder();
        if (ansi) {
            sb.append("\u001b[H\u001b[2J");
        }
        sb.append(String.format("Sluice demo: revision %s, cc=%d, %d clients, pod latency ~%s   t=%ds/%ds%n", REV,
                o.containerConcurrency(), o.clients(), Durations.format(o.latency()), elapsedNanos / 1_000_000_000L,
                o.duration().toSeconds()));
        sb.append(String.format("  %-8s %-11s %9s %8s %11s%n", "pod", "state", "in-flight", "served", "violations"));
        for (SimulatedPod p : pods) {
            PodTracker t = th.table().find(p.address());
            String state = t != null ? t.state().wireName() : p.state().equals("gone") ? "gone"
                    : p.state().equals("pending") ? "pending" : "validating";
            sb.append(String.format("  %-8s %-11s %9d %8d %11d%n", p.name(), state, p.inFlight(), p.served(),
                    p.violations()));
        }
        sb.append(String.format("  queued %d, active %d, capacity %d | %.0f req/s, p50 %.1f ms, p99 %.1f ms | errors %d%n",
                th.queued(), th.active(), th.capacity(), w[0], w[1], w[2], errors.get()));
        out.print(sb);
        out.flush();
    }
}
