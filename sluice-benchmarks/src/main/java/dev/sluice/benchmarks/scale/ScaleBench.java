package dev.sluice.benchmarks.scale;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * N revisions × M pods in one Sluice process, started through the real launcher ({@code ./sluice
 * run}, its default 512 MB heap), every pod an address of 127/8 answered by one
 * {@link LoopbackBackend}. Three runs of the process:
 * <ol>
 *   <li><b>base</b>: one revision ({@code live}, one pod) — the heap Sluice needs anyway;</li>
 *   <li><b>idle</b>: that revision and N revisions without pods: heap per idle revision, and
 *       requests to {@code live} must still be served;</li>
 *   <li><b>ready</b>: N revisions × M pods, all claimed ready in the file, so each is
 *       validated by a readiness check: time from the launch until every pod is ready, checks
 *       failed, heap per ready pod (over the idle run), and the latency of a request to a
 *       random revision sent every 100 ms while the others start.</li>
 * </ol>
 * Heap is the total of {@code jcmd <pid> GC.class_histogram} (live objects, after a full GC).
 *
 * <p>Usage: {@code ScaleBench --revisions N --pods M [--launcher ./sluice] [--timeout 120]
 * [--skip-idle] [--max-checks N]}; prints a report to stdout. {@code --max-checks} sets both bounds of
 * {@code control.readinessChecks} (otherwise Sluice's defaults).
 */
public final class ScaleBench {

    private static final String REVISION_PREFIX = "r";

    private final int revisions;
    private final int pods;
    private final Path launcher;
    private final Duration timeout;
    private final boolean skipIdle;
    /** {@code control.readinessChecks} of the config, both bounds; 0: Sluice's defaults. */
    private final int maxChecks;
    private final Path work;
    private final PrintStream out = System.out;

    private ScaleBench(int revisions, int pods, Path launcher, Duration timeout, boolean skipIdle, int maxChecks)
            throws IOException {
        this.revisions = revisions;
        this.pods = pods;
        this.launcher = launcher;
        this.timeout = timeout;
        this.skipIdle = skipIdle;
        this.maxChecks = maxChecks;
        this.work = Files.createTempDirectory("sluice-scale");
    }

    public static void main(String[] args) throws Exception {
        int n = 1000;
        int m = 10;
        Path launcher = Path.of("sluice");
        Duration timeout = Duration.ofSeconds(120);
        boolean skipIdle = false;
        int maxChecks = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--revisions" -> n = Integer.parseInt(args[++i]);
                case "--pods" -> m = Integer.parseInt(args[++i]);
                case "--launcher" -> launcher = Path.of(args[++i]);
                case "--timeout" -> timeout = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--skip-idle" -> skipIdle = true;
                case "--max-checks" -> maxChecks = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (known: --revisions N --pods M --launcher PATH --timeout SECONDS --skip-idle"
                        + " --max-checks N)");
            }
        }
        if (n < 1 || m < 0 || (long) n * m > 1_000_000) {
            throw new IllegalArgumentException("need revisions >= 1, pods >= 0, revisions x pods <= 1,000,000");
        }
        new ScaleBench(n, m, launcher, timeout, skipIdle, maxChecks).run();
    }

    private void run() throws Exception {
        try (LoopbackBackend backend = new LoopbackBackend(1)) {
            out.printf("scale: %d revisions x %d pods, backend on 0.0.0.0:%d, %s, %d cores, readiness checks in"
                    + " flight: %s%n", revisions, pods, backend.port(), Instant.now(),
                    Runtime.getRuntime().availableProcessors(), maxChecks > 0 ? "at most " + maxChecks : "defaults");
            Heap idle = new Heap(0, Map.of());
            if (!skipIdle) {
                Heap base = baseRun(backend);
                idle = idleRun(backend);
                out.printf("heap per idle revision: %.2f KB (%d revisions: %.1f MB over the base %.1f MB); grown most:%n",
                        (idle.total() - base.total()) / 1024.0 / revisions, revisions,
                        (idle.total() - base.total()) / 1e6, base.total() / 1e6);
                idle.printGrowth(out, base, revisions, "revision");
            }
            if (pods > 0) {
                readyRun(backend, idle);
            }
        }
    }

    // ------------------------------------------------------------------ the three runs

    private Heap baseRun(LoopbackBackend backend) throws Exception {
        try (Sluice s = start("base", config(backend.port(), 0, 0))) {
            servesLive(s);
            return s.heap("base");
        }
    }

    private Heap idleRun(LoopbackBackend backend) throws Exception {
        long t0 = System.nanoTime();
        try (Sluice s = start("idle", config(backend.port(), revisions, 0))) {
            servesLive(s);
            out.printf("idle: %d revisions up and serving after %.2f s%n", revisions, (System.nanoTime() - t0) / 1e9);
            return s.heap("idle");
        }
    }

    private void readyRun(LoopbackBackend backend, Heap idleHeap) throws Exception {
        backend.firstCheck.clear();
        long checksBefore = backend.checks.get();
        int total = revisions * pods;
        long t0 = System.nanoTime();
        try (Sluice s = start("ready", config(backend.port(), revisions, pods))) {
            Probes probes = new Probes(s.proxyPort);
            long deadline = t0 + timeout.toNanos();
            long everyRevision = -1;
            long allAnswered = -1;
            long allReady = -1;
            double cpuAtReady = -1;
            int ready = 0;
            long lastScrape = 0;
            while (System.nanoTime() < deadline) {
                probes.fireIfDue();
                if (everyRevision < 0 && firstChecksCoverEveryRevision(backend)) {
                    everyRevision = System.nanoTime();
                }
                if (allAnswered < 0 && backend.firstCheck.size() >= total) {
                    allAnswered = System.nanoTime();
                }
                // Scraping 10,000 revisions' metrics costs Sluice CPU: only once the backend has
                // answered every pod, and then at most every 250 ms.
                if (allAnswered > 0 && System.nanoTime() - lastScrape > 250_000_000L) {
                    lastScrape = System.nanoTime();
                    ready = readyPods(s);
                    if (ready >= total) {
                        allReady = System.nanoTime();
                        cpuAtReady = s.cpuSeconds();
                        break;
                    }
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
            if (allReady < 0) {
                ready = readyPods(s);
            }
            probes.awaitOutstanding(Duration.ofSeconds(70));
            long failed = (long) s.metricSum("sluice_readiness_validations_total{", "result=\"failed\"");
            long passed = (long) s.metricSum("sluice_readiness_validations_total{", "result=\"passed\"");
            out.printf("ready: %d pods: first check of every revision answered after %s, every pod's after %s,"
                            + " %s%n", total, secs(everyRevision, t0), secs(allAnswered, t0),
                    allReady > 0 ? "all ready after " + secs(allReady, t0) + " (" + secs(allReady, s.listenedAt)
                            + " after Sluice listened)"
                            : "NOT all ready within " + timeout.toSeconds() + " s: " + ready + " ready");
            if (cpuAtReady >= 0) {
                out.printf("sluice CPU (user + system, all threads): %.2f s when it listened, %.2f s when all were"
                        + " ready (%.2f s for the checks and the rest of start-up)%n", s.cpuAtListen, cpuAtReady,
                        cpuAtReady - s.cpuAtListen);
            }
            out.printf("checks: %d passed, %d failed; the backend answered %d checks%n", passed, failed,
                    backend.checks.get() - checksBefore);
            probes.report(out);
            Heap heap = s.heap("ready");
            if (skipIdle) {
                out.printf("heap per ready pod: not measured (--skip-idle); backend connections open: %d%n",
                        backend.open.get());
                return;
            }
            out.printf("heap per ready pod: %.2f KB over the idle run (%.1f MB for %d pods); backend connections"
                    + " open: %d; grown most:%n", (heap.total() - idleHeap.total()) / 1024.0 / total,
                    (heap.total() - idleHeap.total()) / 1e6, total, backend.open.get());
            heap.printGrowth(out, idleHeap, total, "pod");
        }
    }

    /**
     * Ready pods of the benchmark's revisions (not counting revision live's one), from one scrape
     * (with 10,000 pods it is ~1 MB: a line per pod for {@code sluice_pod_in_flight}).
     */
    private static int readyPods(Sluice s) throws IOException, InterruptedException {
        String body = s.get("/metrics").body();
        return (int) (metricSum(body, "sluice_revision_pods{", "state=\"ready\"")
                - metricSum(body, "sluice_revision_pods{revision=\"default/live\"", "state=\"ready\""));
    }

    /** The sum of the samples in {@code body} of one metric whose line contains {@code label}. */
    static double metricSum(String body, String metric, String label) {
        double sum = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith(metric) && line.contains(label)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private boolean firstChecksCoverEveryRevision(LoopbackBackend backend) {
        if (backend.firstCheck.size() < revisions) {
            return false;
        }
        boolean[] seen = new boolean[revisions];
        int count = 0;
        for (String a : backend.firstCheck.keySet()) {
            int k = podIndex(a);
            if (k >= 0 && !seen[k / pods]) {
                seen[k / pods] = true;
                count++;
            }
        }
        return count == revisions;
    }

    /** Live bytes in all, and by class. */
    record Heap(long total, Map<String, Long> byClass) {

        /** Prints the classes that grew most from {@code before} to this, per {@code unit}s. */
        void printGrowth(PrintStream out, Heap before, int units, String unit) {
            Map<String, Long> delta = new HashMap<>(byClass);
            before.byClass.forEach((k, v) -> delta.merge(k, -v, Long::sum));
            delta.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
                    .forEach(e -> out.printf("   %,10d B per %s  %s%n", e.getValue() / units, unit, e.getKey()));
        }
    }

    private static String secs(long at, long t0) {
        return at < 0 ? "(never)" : String.format("%.2f s", (at - t0) / 1e9);
    }

    // ------------------------------------------------------------------ config and addresses

    /** The address of pod {@code k} (0-based over all revisions): 127.(1+k/62500).(1+k/250%250).(1+k%250). */
    static String address(int k) {
        return "127." + (1 + k / 62_500) + "." + (1 + k / 250 % 250) + "." + (1 + k % 250);
    }

    static int podIndex(String ip) {
        String[] p = ip.split("\\.");
        if (p.length != 4 || !p[0].equals("127") || p[1].equals("0")) {
            return -1;
        }
        return (Integer.parseInt(p[1]) - 1) * 62_500 + (Integer.parseInt(p[2]) - 1) * 250 + Integer.parseInt(p[3]) - 1;
    }

    private String config(int backendPort, int n, int m) {
        StringBuilder y = new StringBuilder(64 + n * (80 + m * 24));
        y.append("listen: {proxy: '127.0.0.1:PROXY', control: '127.0.0.1:CONTROL'}\n");
        y.append("shutdown: {drainPeriod: 0s, gracePeriod: 1s}\n");
        if (maxChecks > 0) {
            y.append("control: {readinessChecks: {maxInFlight: ").append(maxChecks).append(", maxInFlightPerRevision: ")
                    .append(maxChecks).append("}}\n");
        }
        y.append("revisions:\n");
        y.append("  - {name: live, containerConcurrency: 16, readinessPath: /ready, pods: ['127.0.0.1:")
                .append(backendPort).append("']}\n");
        for (int r = 0; r < n; r++) {
            y.append("  - {name: ").append(REVISION_PREFIX).append(r)
                    .append(", containerConcurrency: 16, readinessPath: /ready");
            if (m > 0) {
                y.append(", pods: [");
                for (int p = 0; p < m; p++) {
                    y.append(p == 0 ? "'" : ", '").append(address(r * m + p)).append(':').append(backendPort)
                            .append('\'');
                }
                y.append(']');
            }
            y.append("}\n");
        }
        return y.toString();
    }

    // ------------------------------------------------------------------ the Sluice process

    private Sluice start(String name, String config) throws Exception {
        int proxy = freePort();
        int control = freePort();
        Path file = work.resolve(name + ".yaml");
        Files.writeString(file, config.replace("PROXY", Integer.toString(proxy))
                .replace("CONTROL", Integer.toString(control)));
        Path log = work.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "run", "--config", file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SLUICE_LOG_LEVEL", "WARN");
        Sluice s = new Sluice(pb.start(), proxy, control, log);
        try {
            s.awaitUp();
        } catch (Exception | Error e) {
            s.close(); // never leave a Sluice running behind a failed run
            throw e;
        }
        return s;
    }

    private void servesLive(Sluice s) throws Exception {
        HttpClient c = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.proxyPort + "/"))
                    .header("Sluice-Revision", "default/live").timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("revision live was not served within " + timeout);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private final class Sluice implements AutoCloseable {
        final Process process;
        final int proxyPort;
        final int controlPort;
        final Path log;
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long listenedAt;
        double cpuAtListen;

        Sluice(Process process, int proxyPort, int controlPort, Path log) {
            this.process = process;
            this.proxyPort = proxyPort;
            this.controlPort = controlPort;
            this.log = log;
        }

        void awaitUp() throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("sluice exited with " + process.exitValue() + ": "
                            + Files.readString(log));
                }
                try {
                    if (get("/healthz").statusCode() == 200) {
                        listenedAt = System.nanoTime();
                        cpuAtListen = cpuSeconds();
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
            throw new IllegalStateException("sluice did not listen within " + timeout);
        }

        /**
         * CPU time Sluice has used so far, all threads (the launcher execs the JVM, so the pid is
         * the JVM's): unlike wall time, hardly moved by what else runs on a shared machine.
         */
        double cpuSeconds() {
            return process.toHandle().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(-1.0);
        }

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controlPort + path))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        }

        /** The sum of the samples of one metric whose line contains {@code label}. */
        double metricSum(String metric, String label) throws IOException, InterruptedException {
            return ScaleBench.metricSum(get("/metrics").body(), metric, label);
        }

        /** Live heap after a full GC: jcmd GC.class_histogram, bytes by class. */
        Heap heap(String run) throws IOException, InterruptedException {
            String java = process.toHandle().info().command().orElseThrow();
            Path jcmd = Path.of(java).resolveSibling("jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.class_histogram")
                    .redirectErrorStream(true).start();
            List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                    .toList();
            p.waitFor();
            Map<String, Long> bytes = new HashMap<>();
            long total = -1;
            for (String l : lines) {
                String[] f = l.trim().split("\\s+");
                if (f.length >= 4 && f[0].matches("\\d+:")) {
                    bytes.merge(f[3], Long.parseLong(f[2]), Long::sum);
                } else if (f.length >= 3 && f[0].equals("Total")) {
                    total = Long.parseLong(f[2]);
                }
            }
            if (total < 0) {
                throw new IllegalStateException("no histogram from jcmd: " + lines);
            }
            out.printf("%s: heap after a full GC %.1f MB%n", run, total / 1e6);
            return new Heap(total, bytes);
        }

        @Override
        public void close() throws InterruptedException {
            process.toHandle().descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** One request to a random revision every 100 ms, timed from send to the whole answer. */
    private final class Probes {
        final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        final int port;
        final ConcurrentLinkedQueue<long[]> results = new ConcurrentLinkedQueue<>();
        final AtomicInteger outstanding = new AtomicInteger();
        long next = System.nanoTime();

        Probes(int port) {
            this.port = port;
        }

        void fireIfDue() {
            long now = System.nanoTime();
            if (now < next) {
                return;
            }
            next = now + 100_000_000L;
            int r = ThreadLocalRandom.current().nextInt(revisions);
            outstanding.incrementAndGet();
            long t = System.nanoTime();
            client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                            .header("Sluice-Revision", "default/" + REVISION_PREFIX + r)
                            .timeout(Duration.ofSeconds(65)).build(), HttpResponse.BodyHandlers.discarding())
                    .whenComplete((resp, err) -> {
                        results.add(new long[] {System.nanoTime() - t, err != null ? -1 : resp.statusCode()});
                        outstanding.decrementAndGet();
                    });
        }

        void awaitOutstanding(Duration max) throws InterruptedException {
            long deadline = System.nanoTime() + max.toNanos();
            while (outstanding.get() > 0 && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }

        void report(PrintStream out) {
            List<Long> ok = new ArrayList<>();
            int failed = 0;
            for (long[] r : results) {
                if (r[1] == 200) {
                    ok.add(r[0]);
                } else {
                    failed++;
                }
            }
            Collections.sort(ok);
            if (ok.isEmpty()) {
                out.printf("requests during start-up: none answered 200, %d failed%n", failed);
                return;
            }
            out.printf("requests to a random revision during start-up: %d answered 200 (%d not): p50 %.0f ms,"
                            + " p90 %.0f ms, max %.0f ms%n", ok.size(), failed, ok.get(ok.size() / 2) / 1e6,
                    ok.get((int) (ok.size() * 0.9)) / 1e6, ok.get(ok.size() - 1) / 1e6);
        }
    }
}
