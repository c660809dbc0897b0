package dev.sluice.server.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.runtime.SluiceServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Readiness checks over real sockets are bounded in the process and per revision, and
 * revisions take turns: 3 revisions × 12 pods, each pod a loopback address (127.0.r.p) of one
 * server that holds every check until the test lets one go and records how many run at once.
 * The first checks are held until every revision's checks are queued (the scheduler's gauges
 * say so); then checks are let go one at a time, each next one awaited, so the order in which
 * checks reach the pods is the order Sluice started them (letting several go at once raced
 * their next checks to the pods, and the arrival order was not the turn order).
 */
class ReadinessChecksIT {

    private static final int REVISIONS = 3;
    private static final int PODS = 12;

    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger mostRunning = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> runningByRevision = new ConcurrentHashMap<>();
    private final AtomicInteger mostRunningInOneRevision = new AtomicInteger();
    /** The revision (third octet) of each check, in the order they arrived. */
    private final List<String> arrivals = new CopyOnWriteArrayList<>();
    /** One permit lets one held check answer. */
    private final Semaphore answers = new Semaphore(0);
    private ExecutorService pool;
    private HttpServer pods;
    private SluiceServer sluice;

    @BeforeEach
    void start() throws Exception {
        pool = Executors.newFixedThreadPool(16);
        pods = HttpServer.create(new InetSocketAddress("0.0.0.0", 0), 256);
        pods.setExecutor(pool);
        pods.createContext("/", this::answer);
        pods.start();
        int port = pods.getAddress().getPort();
        StringBuilder yaml = new StringBuilder("listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                + "control: {readinessChecks: {maxInFlight: 4, maxInFlightPerRevision: 2}}\nrevisions:\n");
        for (int r = 0; r < REVISIONS; r++) {
            yaml.append("  - {name: r").append(r).append(", containerConcurrency: 1, readinessPath: /ready, pods: [");
            for (int p = 0; p < PODS; p++) {
                yaml.append(p == 0 ? "" : ", ").append("'127.0.").append(10 + r).append('.').append(1 + p).append(':')
                        .append(port).append('\'');
            }
            yaml.append("]}\n");
        }
        // Checks are held until the test lets them go, which on a loaded machine took more than
        // the default 1 s: they timed out, were retried, and the pods counted the held and the
        // retried ones at once (8 running). The timeout is not what this test is about.
        sluice = SluiceServer.builder(ConfigLoader.parse("t.yaml", yaml.toString())).ioThreads(1)
                .readinessTimeout(Duration.ofSeconds(60)).start();
    }

    /** Holds each check until the test lets it go (a slow pod), so that checks overlap and the bounds show. */
    private void answer(HttpExchange ex) throws IOException {
        String revision = Integer.toString(ex.getLocalAddress().getAddress().getAddress()[2]);
        arrivals.add(revision);
        AtomicInteger mine = runningByRevision.computeIfAbsent(revision, k -> new AtomicInteger());
        mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        mostRunningInOneRevision.accumulateAndGet(mine.incrementAndGet(), Math::max);
        try {
            answers.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        mine.decrementAndGet();
        running.decrementAndGet();
        ex.sendResponseHeaders(200, -1);
        ex.close();
    }

    @AfterEach
    void stop() {
        answers.release(10_000);
        sluice.close();
        pods.stop(0);
        pool.shutdownNow();
    }

    private int ready() {
        int n = 0;
        for (int r = 0; r < REVISIONS; r++) {
            for (PodTracker t : sluice.throttlers().get(new RevisionId("default", "r" + r)).table().trackers()) {
                if (t.state() == PodState.READY) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void everyPodBecomesReadyWithNoMoreChecksAtOnceThanTheBoundsAndRevisionsTakingTurns() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        URI metrics = URI.create("http://127.0.0.1:" + sluice.controlAddress().getPort() + "/metrics");
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String body = client.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString())
                    .body();
            return body.contains("sluice_readiness_checks_in_flight 4.0")
                    && body.contains("sluice_readiness_checks_waiting " + (REVISIONS * PODS - 4) + ".0");
        });
        for (int k = 4; k < 2 * REVISIONS; k++) {
            answers.release();
            int next = k + 1;
            await().atMost(Duration.ofSeconds(30)).until(() -> arrivals.size() >= next);
        }
        answers.release(10_000);
        await().atMost(Duration.ofSeconds(60)).until(() -> ready() == REVISIONS * PODS);
        assertThat(mostRunning.get()).as("checks at once in the process").isBetween(2, 4);
        assertThat(mostRunningInOneRevision.get()).as("checks at once in one revision").isLessThanOrEqualTo(2);
        assertThat(arrivals).hasSize(REVISIONS * PODS);
        Set<String> early = new HashSet<>(arrivals.subList(0, 2 * REVISIONS));
        assertThat(early).as("revisions checked among the first %d checks", 2 * REVISIONS).hasSize(REVISIONS);
    }
}
