package dev.sluice.server.cluster;

import dev.sluice.core.NanoClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The static peers' health checks: every interval, {@code GET /readyz} on each other peer's
 * control API (200 passes; anything else, a refused connection or no answer within the timeout
 * fails), recorded in {@link PeerHealth}; after each result the live set — the live peers and
 * this replica — goes to the membership, which ignores a set equal to the last.
 *
 * <h2>Implementation notes</h2>
 * {@link #round()} runs on the cluster's one scheduler thread; the checks complete on the HTTP
 * client's threads and only touch {@link PeerHealth} (locked) and the membership (locked). A
 * draining peer fails {@code /readyz} at once, so it leaves the others' views within one
 * interval, while it still serves what it holds.
 */
final class PeerProber {

    private final Peer self;
    private final List<Peer> others;
    private final PeerHealth health;
    private final Consumer<Set<Peer>> membership;
    private final Duration timeout;
    private final NanoClock clock;
    private final ClusterMetrics metrics;
    private final HttpClient http;

    PeerProber(Peer self, List<Peer> others, PeerHealth health, Consumer<Set<Peer>> membership, Duration timeout,
            NanoClock clock, ClusterMetrics metrics, HttpClient http) {
        this.self = self;
        this.others = List.copyOf(others);
        this.health = health;
        this.membership = membership;
        this.timeout = timeout;
        this.clock = clock;
        this.metrics = metrics;
        this.http = http;
    }

    /** Checks every other peer once; the futures complete when each result is recorded. */
    List<CompletableFuture<Void>> round() {
        List<CompletableFuture<Void>> out = new ArrayList<>(others.size());
        for (Peer p : others) {
            long sent = clock.nanoTime();
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + p.control() + "/readyz"))
                    .timeout(timeout).GET().build();
            out.add(http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).handle((r, err) -> {
                boolean ok = err == null && r.statusCode() == 200;
                if (err != null) {
                    metrics.peerError(p.id(), "health");
                }
                health.checked(p.id(), ok, sent);
                publish();
                return null;
            }));
        }
        publish(); // a peer silent too long is out even before its check answers
        return out;
    }

    /** The first round, waited for (up to the check timeout and a little), so start-up sees the set. */
    void firstRound() {
        List<CompletableFuture<Void>> checks = round();
        try {
            CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new))
                    .get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the silent ones stay not live; the next rounds decide
        }
    }

    /**
     * A forward to {@code id} could not connect: nothing listens there, so it is out at once
     * (not after {@code failures} checks); its next passed check brings it back.
     */
    void unreachable(String id, long nowNanos) {
        health.down(id, nowNanos);
        publish();
    }

    private void publish() {
        Set<Peer> live = new LinkedHashSet<>(health.live());
        live.add(self);
        membership.accept(live);
    }
}
