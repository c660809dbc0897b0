package dev.sluice.server.cluster;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.server.proxy.Route;
import dev.sluice.server.proxy.RouteOwner;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ownership table: for every running revision, which live replica owns it
 * ({@link OwnerFunction} over the {@link Membership}'s view), written into each route's
 * {@link RouteOwner} for the proxy to read. Revisions with {@code containerConcurrency: 0} have no
 * limit to share and are served wherever they arrive.
 *
 * <p>On a change it tells the handoff: a revision this replica gains is first
 * {@link HandoffLedger#gained held} for its previous owner (before the proxy sees the new owner,
 * so no request of it is admitted here in between); one it loses is remembered for the
 * {@link HandoffReporter}, which reports what this replica still runs of it to the new owner.
 * Start-up is a gain from an unknown owner while the first view is recent: a replica that starts
 * beside others may find them before they find it. An empty view (a membership source that has
 * not listed yet) owns nothing and leaves every revision served here, its owner unknown.
 *
 * <h2>Implementation notes</h2>
 * Called by the membership (a new view, under its lock) and by the revision registry (a new
 * set of routes, under the reconciler's lock); every method takes this monitor, so the table is
 * recomputed by one thread at a time, from the latest view and routes. The proxy reads each
 * route's owner with one volatile read.
 */
final class Ownership implements Membership.Listener {

    private final String self;
    private final HandoffLedger ledger;
    private final ClusterMetrics metrics;
    private final NanoClock clock;
    private final long startupHoldNanos;
    /** When the first non-empty view came (clock nanoseconds), or null before it. */
    private Long firstViewNanos;
    private List<Peer> live = List.of();
    private Collection<Route> routes = List.of();
    private final Map<RevisionId, Long> lostAt = new HashMap<>();

    Ownership(String self, HandoffLedger ledger, ClusterMetrics metrics, NanoClock clock, long startupHoldNanos) {
        this.self = self;
        this.ledger = ledger;
        this.metrics = metrics;
        this.clock = clock;
        this.startupHoldNanos = startupHoldNanos;
    }

    @Override
    public synchronized void viewChanged(List<Peer> view) {
        this.live = view;
        recompute();
    }

    /** The running revisions changed (start-up, reload, a discovered revision). */
    synchronized void routesPublished(Collection<Route> next) {
        this.routes = List.copyOf(next);
        recompute();
    }

    /** The revisions this replica lost, with when (clock nanoseconds), for the reporter. */
    synchronized Map<RevisionId, Long> lost() {
        return Map.copyOf(lostAt);
    }

    synchronized void forget(RevisionId revision) {
        lostAt.remove(revision);
    }

    synchronized Collection<Route> routes() {
        return routes;
    }

    private void recompute() {
        if (live.isEmpty()) {
            // No view yet (a membership source that has not listed), or this replica leaves and
            // is the last: nobody to share with; served here, ownership unknown.
            for (Route r : routes) {
                if (r.owner() != null) {
                    r.owner().set(null, null);
                }
            }
            return;
        }
        if (firstViewNanos == null) {
            firstViewNanos = clock.nanoTime();
        }
        int moves = 0;
        for (Route r : routes) {
            RouteOwner cell = r.owner();
            if (cell == null) {
                continue;
            }
            if (r.config().containerConcurrency() == 0) {
                cell.set(self, null);
                continue;
            }
            String revision = r.config().id().toString();
            Peer owner = OwnerFunction.owner(revision, live);
            String next = owner.id();
            String before = cell.ownerId();
            boolean mine = next.equals(self);
            if (before == null) {
                // First view of this revision: at start-up (the first view), others may have
                // been serving it; a revision added later in a settled set was nobody's.
                if (mine && clock.nanoTime() - firstViewNanos < startupHoldNanos) {
                    ledger.gained(r.config().id(), previousOwner(revision));
                }
            } else if (!before.equals(next)) {
                moves++;
                if (mine) {
                    ledger.gained(r.config().id(), before);
                } else if (before.equals(self)) {
                    lostAt.put(r.config().id(), clock.nanoTime());
                }
            }
            cell.set(next, mine ? null : owner.address());
        }
        if (moves > 0) {
            metrics.moved(moves);
        }
    }

    /** Who would own {@code revision} without this replica, or {@link HandoffLedger#UNKNOWN}. */
    private String previousOwner(String revision) {
        List<Peer> others = new ArrayList<>(live.size());
        for (Peer p : live) {
            if (!p.id().equals(self)) {
                others.add(p);
            }
        }
        Peer p = OwnerFunction.owner(revision, others);
        return p == null ? HandoffLedger.UNKNOWN : p.id();
    }
}
