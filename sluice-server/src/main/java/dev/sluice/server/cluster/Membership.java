package dev.sluice.server.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The live replica set, as this replica sees it: the one input of ownership. It is fed whole
 * snapshots, {@link #update(Collection)}, by whichever source there is — the static peers' health
 * checks ({@link PeerProber}), or on Kubernetes the ready endpoints of Sluice's own control
 * Service — and tells its listener each time the set it would own against changes.
 *
 * <p>This replica leaves its own view the moment it starts draining ({@link #leave()}), before the
 * others notice its {@code /readyz} failing: from then on it admits nothing of any limited
 * revision — new arrivals, the forwards the others still send it and its queued requests go to
 * the new owners ({@link ForwardRule}) — and finishes what it has in flight.
 *
 * <h2>Implementation notes</h2>
 * Updates come from one source thread (the prober's, or the informer's) and {@link #leave} from
 * the shutdown thread: both take the monitor, and the listener is called under it, so listeners
 * see views one at a time, in order. {@link #live()} (an immutable list, sorted by id, so equal
 * sets compare equal) and {@link #leaving()} are volatile reads, for any thread.
 */
public final class Membership {

    /** Told each new view, under the membership's lock. */
    public interface Listener {
        void viewChanged(List<Peer> live);
    }

    private final Peer self;
    private final Listener listener;
    private Collection<Peer> given = List.of();
    private volatile boolean leaving;
    private volatile List<Peer> live = List.of();

    public Membership(Peer self, Listener listener) {
        this.self = Objects.requireNonNull(self, "self");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    public Peer self() {
        return self;
    }

    /**
     * The whole set of live replicas now (this one included when it is live). The one entry
     * point for a membership source: the Kubernetes peer watch feeds its snapshots here.
     */
    public synchronized void update(Collection<Peer> peers) {
        given = List.copyOf(peers);
        publish();
    }

    /** This replica drains: it owns nothing from now on, whatever the source says. */
    public synchronized void leave() {
        leaving = true;
        publish();
    }

    /** Whether this replica drains (any thread: the forwarding rule reads it per forward it does not own). */
    public boolean leaving() {
        return leaving;
    }

    /** The live replicas, sorted by id; never this one once it leaves. */
    public List<Peer> live() {
        return live;
    }

    private void publish() {
        List<Peer> next = new ArrayList<>(given.size());
        for (Peer p : given) {
            if (!(leaving && p.id().equals(self.id()))) {
                next.add(p);
            }
        }
        next.sort(Comparator.comparing(Peer::id));
        List<Peer> view = List.copyOf(next);
        if (!view.equals(live)) {
            live = view;
            listener.viewChanged(view);
        }
    }
}
