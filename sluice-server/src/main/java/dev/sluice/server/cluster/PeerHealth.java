package dev.sluice.server.cluster;

import dev.sluice.core.NanoClock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which static peers are live, from the results of their health checks: a peer is live from its
 * first passed check until {@code failures} checks in a row fail, or until no check has passed
 * for {@code staleAfter} (a check that hangs says nothing, so silence counts against it). A peer
 * starts out not live. Time is the injected clock's.
 *
 * <h2>Implementation notes</h2>
 * Results arrive on the HTTP client's threads, in any order; every method takes the monitor. A
 * result never makes a peer live whose later result already failed: results carry the clock
 * reading at which their check was sent, and one older than the newest recorded is dropped.
 */
final class PeerHealth {

    private final NanoClock clock;
    private final int failures;
    private final long staleAfterNanos;
    private final Map<String, State> peers = new HashMap<>();
    private final List<Peer> all;

    private static final class State {
        long lastSent = Long.MIN_VALUE;
        long lastPass = Long.MIN_VALUE;
        boolean passedEver;
        int failedInARow;
    }

    PeerHealth(List<Peer> others, int failures, Duration staleAfter, NanoClock clock) {
        this.all = List.copyOf(others);
        this.failures = failures;
        this.staleAfterNanos = staleAfter.toNanos();
        this.clock = clock;
        for (Peer p : others) {
            peers.put(p.id(), new State());
        }
    }

    /** The result of a check of {@code id} that was sent at {@code sentNanos}. */
    synchronized void checked(String id, boolean passed, long sentNanos) {
        State s = peers.get(id);
        if (s == null || (s.lastSent != Long.MIN_VALUE && sentNanos - s.lastSent < 0)) {
            return;
        }
        s.lastSent = sentNanos;
        if (passed) {
            s.passedEver = true;
            s.lastPass = sentNanos;
            s.failedInARow = 0;
        } else {
            s.failedInARow++;
        }
    }

    /** {@code id} refused a connection at {@code nowNanos}: it is down until a check passes again. */
    synchronized void down(String id, long nowNanos) {
        State s = peers.get(id);
        if (s != null) {
            s.lastSent = Math.max(s.lastSent, nowNanos);
            s.failedInARow = Math.max(s.failedInARow, failures);
        }
    }

    /** Whether {@code id} is live now. */
    synchronized boolean isLive(String id) {
        State s = peers.get(id);
        return s != null && live(s, clock.nanoTime());
    }

    /** The live peers now, in the order they were listed. */
    synchronized Set<Peer> live() {
        long now = clock.nanoTime();
        Set<Peer> out = new LinkedHashSet<>();
        for (Peer p : all) {
            if (live(peers.get(p.id()), now)) {
                out.add(p);
            }
        }
        return out;
    }

    private boolean live(State s, long now) {
        return s.passedEver && s.failedInARow < failures && now - s.lastPass <= staleAfterNanos;
    }
}
