package dev.sluice.server.cluster;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.RouteOwner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The old owner's side of a handoff: for every limited revision this replica does not own but
 * still runs requests of (it lost it and finishes what it had, or it served a forward while the
 * views disagreed), it tells the owner, every tick, how many requests it runs on each pod and
 * how many still wait in its queue — absolute counts, so a lost or repeated report does no harm.
 * A revision it lost is reported for the handoff timeout even when idle (zeros), so the new
 * owner stops holding its pods at once; a revision that drops to nothing gets one last zero
 * report. Slots this replica itself holds for others ({@link HandoffLedger}) are not its
 * requests and are left out.
 *
 * <h2>Implementation notes</h2>
 * {@link #reports()} runs on the cluster's scheduler thread alone (its {@link #active} set is
 * that thread's); it reads the trackers' counts, which are atomics, and the ownership table
 * and ledger under their locks. The reports are sent by {@link Cluster}.
 */
final class HandoffReporter {

    /** One revision's line of a report. */
    record Line(RevisionId revision, int queued, Map<String, Integer> pods) {
    }

    private final Ownership ownership;
    private final HandoffLedger ledger;
    private final NanoClock clock;
    private final long lingerNanos;
    /** Revisions whose last report had something in it. */
    private final Set<RevisionId> active = new HashSet<>();

    HandoffReporter(Ownership ownership, HandoffLedger ledger, NanoClock clock, long lingerNanos) {
        this.ownership = ownership;
        this.ledger = ledger;
        this.clock = clock;
        this.lingerNanos = lingerNanos;
    }

    /** What to tell each owner now: owner id → lines. */
    Map<String, List<Line>> reports() {
        long now = clock.nanoTime();
        Map<RevisionId, Long> lost = ownership.lost();
        Map<String, List<Line>> out = new LinkedHashMap<>();
        Set<RevisionId> stillActive = new HashSet<>();
        for (Route r : ownership.routes()) {
            RouteOwner cell = r.owner();
            RevisionId id = r.config().id();
            if (cell == null || cell.forwardTo() == null || r.config().containerConcurrency() == 0) {
                continue;
            }
            Map<String, Integer> pods = new HashMap<>();
            // A revision with no token held has no request of this replica's on a pod (slots held
            // for others take none): its pods are not scanned, so idle revisions cost a read each.
            List<PodTracker> trackers = r.throttler().active() == 0 ? List.of() : r.throttler().table().trackers();
            for (PodTracker t : trackers) {
                int n = t.inFlight();
                if (n > 0) {
                    n -= ledger.heldOn(id, t);
                    if (n > 0) {
                        pods.merge(t.address(), n, Integer::sum);
                    }
                }
            }
            int queued = r.throttler().queued();
            boolean any = queued > 0 || !pods.isEmpty();
            Long lostAt = lost.get(id);
            boolean recent = lostAt != null && now - lostAt <= lingerNanos;
            if (lostAt != null && !recent) {
                ownership.forget(id);
            }
            if (any || recent || active.contains(id)) {
                out.computeIfAbsent(cell.ownerId(), k -> new ArrayList<>()).add(new Line(id, queued, pods));
            }
            if (any) {
                stillActive.add(id);
            }
        }
        active.clear();
        active.addAll(stillActive);
        return out;
    }
}
