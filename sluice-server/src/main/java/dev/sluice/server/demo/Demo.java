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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The demo's script: the revision starts with no pod and clients already sending, so the first
 * requests wait in Sluice's queue; a stand-in for KEDA ({@link KedaStandIn}) hears "active" on
 * Sluice's scaler stream over gRPC and starts the pods, which report NOT_READY and then READY
 * after a cold-start delay (scale from zero). A third of the way in, the first pod reports
 * DRAINING, finishes what it has and leaves; halfway, a new pod joins. Clients send requests in
 * a closed loop all the while. Every pod enforces its own concurrency limit, so any request
 * Sluice sent beyond it shows up as a violation. Each scripted event prints a line as it happens.
 */
public final class Demo {

    private static final RevisionId REV = new RevisionId("default", "demo");

    /** What to run. */
    public record Options(int pods, int containerConcurrency, Duration latency, int clients, Duration duration,
            Duration coldStart) {
        public Options {
            if (pods < 1 || containerConcurrency < 1 || clients < 1) {
                throw new IllegalArgumentException("pods, cc and clients must be at least 1");
            }
            if (duration.toMillis() < 1000) {
                throw new IllegalArgumentException("duration must be at least 1s");
            }
            if (coldStart.isNegative() || coldStart.compareTo(duration.dividedBy(4)) > 0) {
                throw new IllegalArgumentException("the cold start must be between 0 and a quarter of the duration ("
                        + Durations.format(duration.dividedBy(4)) + "), was " + Durations.format(coldStart));
            }
        }
    }

    /**
     * How it went. Zero errors and zero violations is the expected outcome.
     *
     * @param coldStartSeconds the revision's cold start as Sluice measured it (first request
     *                         queued at zero pods to first pod ready), or -1 if there was none
     */
    public record Summary(long served, long errors, int violations, Map<Integer, Long> errorsByStatus,
            double coldStartSeconds) {
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
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final AtomicBoolean scaledUp = new AtomicBoolean();
    private SluiceServer sluice;
    private volatile long startNanos;
    private volatile long firstReadyNanos;
    private volatile boolean running = true;

    public Demo(Options o, PrintStream out, boolean ansi) {
        this.o = o;
        this.out = out;
        this.ansi = ansi;
    }

    public Summary run() throws Exception {
        String yaml = "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0', scaler: '127.0.0.1:0'}\n"
                + "revisions: [{namespace: default, name: demo, containerConcurrency: " + o.containerConcurrency()
                + ", readinessPath: /healthz, timeouts: {queue: 30s, total: 60s}}]\n";
        sluice = SluiceServer.builder(ConfigLoader.parse("(demo)", yaml)).ioThreads(2).start();
        ExecutorService clients = Executors.newFixedThreadPool(o.clients());
        KedaStandIn keda = new KedaStandIn(sluice.scalerAddress(), REV, this::scalerSays);
        try {
            // The HTTP client's first use costs the JVM a moment: spend it before the clock starts.
            http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort()
                    + "/healthz")).build(), HttpResponse.BodyHandlers.discarding());
            long start = System.nanoTime();
            startNanos = start;
            long end = start + o.duration().toNanos();
            event(o.clients() + " clients start sending; " + REV + " has no pod yet, so their requests wait in"
                    + " Sluice's queue");
            for (int c = 0; c < o.clients(); c++) {
                clients.execute(() -> clientLoop(end));
            }
            boolean drained = false;
            boolean joined = false;
            long nextTable = start;
            while (System.nanoTime() < end) {
                long elapsed = System.nanoTime() - start;
                // Once pods serve, a third of the time left: a pod drains; half of it: one joins.
                long serving = firstReadyNanos;
                long rest = end - serving;
                if (!drained && serving != 0 && System.nanoTime() > serving + rest / 3) {
                    drained = true;
                    drainAndLeave(pods.get(0));
                }
                if (!joined && serving != 0 && System.nanoTime() > serving + rest / 2) {
                    joined = true;
                    Duration warmUp = Duration.ofMillis(500);
                    event("pod-" + (o.pods() + 1) + " starting: it joins after a " + Durations.format(warmUp)
                            + " warm-up");
                    startPod(o.pods(), warmUp);
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
            Summary s = new Summary(served.get(), errors.get(), violations, Map.copyOf(errorsByStatus),
                    lastColdStartSeconds());
            out.printf("%nScale from zero: %s.%n", s.coldStartSeconds() < 0 ? "no cold start was measured"
                    : String.format("the first pod was ready %.2f s after the first request queued at zero pods"
                            + " (KEDA stand-in's cold start %s, sluice_cold_start_seconds)", s.coldStartSeconds(),
                            Durations.format(o.coldStart())));
            out.printf("Served %d requests, %d errors%s, %d concurrency violations. %s%n", s.served(), s.errors(),
                    s.errorsByStatus().isEmpty() ? "" : " " + s.errorsByStatus(), s.violations(),
                    s.clean() ? "As expected: nothing lost — the requests that waited for the first pod were served"
                            + " too — and no pod ever over its limit."
                            : "UNEXPECTED: see above.");
            return s;
        } finally {
            running = false;
            keda.close();
            clients.shutdownNow();
            sluice.shutdown(Duration.ZERO, Duration.ofSeconds(5));
            pods.forEach(SimulatedPod::close);
        }
    }

    /** KEDA's answer on the scaler stream: the first "active" at zero pods starts the pods. */
    private void scalerSays(boolean active) {
        if (!active || !scaledUp.compareAndSet(false, true)) {
            return;
        }
        event("Sluice -> KEDA stand-in over gRPC (StreamIsActive): active, a request waits with no pod; it starts "
                + o.pods() + " pod(s), each ready after a " + Durations.format(o.coldStart()) + " cold start");
        try {
            for (int i = 0; i < o.pods(); i++) {
                startPod(i, o.coldStart().plusMillis(200L * i));
            }
        } catch (Exception e) {
            out.println("demo: could not start the pods: " + e);
        }
    }

    /** Prints a narration line now, and keeps it under the live table. */
    private void event(String what) {
        double t = (System.nanoTime() - startNanos) / 1e9;
        String line = String.format("t=%.1fs %s", t, what);
        events.add(line);
        if (!ansi) {
            out.println(line);
            out.flush();
        }
    }

    /** The last cold start Sluice measured, from the control API; -1 if none. */
    private double lastColdStartSeconds() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sluice.controlAddress().getPort() + "/v1/revisions")).build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode rev : JsonMapper.builder().build().readTree(r.body())) {
            JsonNode cold = rev.get("lastColdStartSeconds");
            if (rev.get("revision").asString().equals(REV.toString()) && cold != null && !cold.isNull()) {
                return cold.asDouble();
            }
        }
        return -1;
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
                if (firstReadyNanos == 0) {
                    firstReadyNanos = System.nanoTime();
                }
                event(p.name() + " ready: it reported itself to the control API; Sluice checks its /healthz,"
                        + " then sends it requests");
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
                int holding = p.inFlight();
                report(p, "draining");
                event(p.name() + " draining: its " + holding + " request(s) finish, it gets no new ones");
                printTable(System.nanoTime() - startNanos);
                RevisionThrottler th = sluice.throttlers().get(REV);
                while (running && th.table().find(p.address()) != null) {
                    Thread.sleep(20);
                }
                p.close();
                event(p.name() + " gone: its last request finished and Sluice removed it");
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

    private synchronized void printTable(long elapsedNanos) {
        RevisionThrottler th = sluice.throttlers().get(REV);
        double[] w = window.drain();
        StringBuilder sb = new StringBuilder();
        if (ansi) {
            sb.append("\u001b[H\u001b[2J");
        }
        sb.append(String.format("Sluice demo: revision %s, cc=%d, %d clients, pod latency ~%s   t=%ds/%ds%n", REV,
                o.containerConcurrency(), o.clients(), Durations.format(o.latency()), elapsedNanos / 1_000_000_000L,
                o.duration().toSeconds()));
        int slots = th.capacity();
        sb.append(o.clients() > slots
                ? String.format("  %d clients, %d slots (pods x cc): the others wait in Sluice's queue, so latency is"
                        + " that wait plus the pod's own ~%s%n", o.clients(), slots, Durations.format(o.latency()))
                : String.format("  every client has a slot: latency is the pod's own ~%s%n",
                        Durations.format(o.latency())));
        sb.append(String.format("  %-8s %-11s %9s %8s %11s%n", "pod", "state", "in-flight", "served", "violations"));
        for (SimulatedPod p : pods) {
            PodTracker t = th.table().find(p.address());
            // A draining pod stays "draining" until its last request ends; only then "gone".
            String state = t != null ? t.state().wireName() : p.state().equals("gone") ? "gone"
                    : p.state().equals("draining") ? "draining"
                    : p.state().equals("pending") ? "starting" : "validating";
            sb.append(String.format("  %-8s %-11s %9d %8d %11d%n", p.name(), state, p.inFlight(), p.served(),
                    p.violations()));
        }
        sb.append(String.format("  queued %d, active %d, capacity %d | %.0f req/s, p50 %.1f ms, p99 %.1f ms | errors %d%n",
                th.queued(), th.active(), th.capacity(), w[0], w[1], w[2], errors.get()));
        if (ansi) {
            List<String> recent = events.subList(Math.max(0, events.size() - 8), events.size());
            recent.forEach(e -> sb.append("  ").append(e).append('\n'));
        }
        out.print(sb);
        out.flush();
    }
}
