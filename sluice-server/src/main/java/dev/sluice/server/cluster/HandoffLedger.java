package dev.sluice.server.cluster;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.proxy.Route;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Pod slots this replica holds for requests another replica still runs, so that when ownership
 * of a revision moves here no pod goes over its limit: the new owner counts the old owner's
 * requests on each pod until they end.
 *
 * <p>Each entry is keyed by (the other replica, revision) and wants a number of slots per pod:
 * <ul>
 * <li>after a {@link #report}: exactly what that replica said it runs there (its in-flight count
 *     on each pod). While it still has requests queued for the revision (it finishes what it
 *     queued, and they may take any pod) it wants every slot of every pod;</li>
 * <li>after {@link #gained} with no report yet from the previous owner: every slot of every pod
 *     (the previous owner may not have seen the change yet, and may be routing still). A gain
 *     is this replica's view changing, or the owner it sees forwarding it a request as its heir
 *     ({@link ForwardRule});</li>
 * <li>an entry not refreshed by a report within the handoff timeout is dropped with its slots:
 *     a replica that died stops reporting, and one that is done sends a last all-zero report.</li>
 * </ul>
 * Holding a slot is {@link RevisionThrottler#reserveSlot}: the pod's count rises, so this
 * replica's own requests find it full and wait in the queue as for any busy pod; giving it back
 * serves the next waiter. A slot that cannot be taken now (the pod is full of this replica's
 * own requests, or not routable yet) is tried again on every {@link #tick}.
 *
 * <h2>Implementation notes</h2>
 * Reports arrive on the control API's loop, gains under the ownership table's lock, ticks on
 * the cluster's scheduler: every method takes this monitor. Slots are taken and given back on
 * the tracker they were taken on (a pod replaced at the same address gets a new tracker), so a
 * slot is released exactly once.
 */
final class HandoffLedger {

    /** The previous owner of a revision gained at start-up is not known: held for the timeout. */
    static final String UNKNOWN = "";

    private final Function<RevisionId, Route> routes;
    private final NanoClock clock;
    private final long timeoutNanos;
    private final Map<Key, Entry> entries = new HashMap<>();

    private record Key(String from, RevisionId revision) {
    }

    private static final class Entry {
        long heardNanos;
        /** The other replica has reported at least once (else the hold is a gain's, waiting for it). */
        boolean reported;
        /** Every slot of every pod (queued requests, or no report yet). */
        boolean all;
        Map<String, Integer> wanted = Map.of();
        final Map<String, Held> held = new HashMap<>();
    }

    private static final class Held {
        final PodTracker tracker;
        int count;

        Held(PodTracker tracker) {
            this.tracker = tracker;
        }
    }

    HandoffLedger(Function<RevisionId, Route> routes, NanoClock clock, Duration timeout) {
        this.routes = Objects.requireNonNull(routes);
        this.clock = clock;
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * What replica {@code from}, which does not own {@code revision}, runs on its pods now:
     * {@code pods} (address → requests) and {@code queued} requests still waiting for one.
     */
    synchronized void report(String from, RevisionId revision, int queued, Map<String, Integer> pods) {
        Entry e = entries.computeIfAbsent(new Key(from, revision), k -> new Entry());
        e.heardNanos = clock.nanoTime();
        e.reported = true;
        e.all = queued > 0;
        e.wanted = Map.copyOf(pods);
        apply(revision, e);
    }

    /**
     * This replica now owns {@code revision}, which {@code previousOwner} owned (or
     * {@link #UNKNOWN}): unless that replica has reported on it recently, hold every slot until
     * it does or the timeout passes. Called before the new ownership is published.
     */
    synchronized void gained(RevisionId revision, String previousOwner) {
        Key k = new Key(previousOwner, revision);
        Entry e = entries.get(k);
        if (e != null && clock.nanoTime() - e.heardNanos <= timeoutNanos) {
            return;
        }
        e = new Entry();
        e.heardNanos = clock.nanoTime();
        e.all = true;
        entries.put(k, e);
        apply(revision, e);
    }

    /**
     * Restarts the timeout of every hold still waiting for its first report: a replica that
     * starts holds what it gains from the moment it has a view, but the previous owners can only
     * notice it, stop admitting and report once it is ready, which may be later.
     */
    synchronized void restartUnreported() {
        long now = clock.nanoTime();
        for (Entry e : entries.values()) {
            if (!e.reported) {
                e.heardNanos = now;
            }
        }
    }

    /** Drops silent entries and takes slots that could not be taken before. */
    synchronized void tick() {
        long now = clock.nanoTime();
        for (Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Key, Entry> me = it.next();
            Entry e = me.getValue();
            if (now - e.heardNanos > timeoutNanos) {
                e.all = false;
                e.wanted = Map.of();
                apply(me.getKey().revision(), e);
                it.remove();
            } else {
                apply(me.getKey().revision(), e);
            }
        }
    }

    /** Slots held now on {@code tracker} for other replicas (to leave out of this replica's own reports). */
    synchronized int heldOn(RevisionId revision, PodTracker tracker) {
        int n = 0;
        for (Map.Entry<Key, Entry> me : entries.entrySet()) {
            if (me.getKey().revision().equals(revision)) {
                Held h = me.getValue().held.get(tracker.address());
                if (h != null && h.tracker == tracker) {
                    n += h.count;
                }
            }
        }
        return n;
    }

    /** Slots held now for other replicas, in all. */
    synchronized int held() {
        int n = 0;
        for (Entry e : entries.values()) {
            for (Held h : e.held.values()) {
                n += h.count;
            }
        }
        return n;
    }

    /** Slots held now for {@code revision}. */
    synchronized int held(RevisionId revision) {
        int n = 0;
        for (Map.Entry<Key, Entry> me : entries.entrySet()) {
            if (me.getKey().revision().equals(revision)) {
                for (Held h : me.getValue().held.values()) {
                    n += h.count;
                }
            }
        }
        return n;
    }

    /** Releases everything (shutdown). */
    synchronized void clear() {
        for (Map.Entry<Key, Entry> me : entries.entrySet()) {
            Entry e = me.getValue();
            e.all = false;
            e.wanted = Map.of();
            apply(me.getKey().revision(), e);
        }
        entries.clear();
    }

    /** Brings the slots held for {@code e} to what it wants, as far as the pods allow now. */
    private void apply(RevisionId revision, Entry e) {
        Route route = routes.apply(revision);
        RevisionThrottler th = route == null ? null : route.throttler();
        // Give back what is no longer wanted (or was taken on a tracker since replaced).
        for (Iterator<Map.Entry<String, Held>> it = e.held.entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, Held> me = it.next();
            Held h = me.getValue();
            PodTracker now = th == null ? null : th.table().find(me.getKey());
            int want = now != h.tracker ? 0 : wanted(e, h.tracker, th);
            while (h.count > want) {
                h.count--;
                if (th != null) {
                    th.releaseSlot(h.tracker);
                } else {
                    h.tracker.release();
                }
            }
            if (h.count == 0) {
                it.remove();
            }
        }
        if (th == null) {
            return;
        }
        for (PodTracker t : th.table().trackers()) {
            int want = wanted(e, t, th);
            if (want == 0) {
                continue;
            }
            Held h = e.held.get(t.address());
            if (h == null) {
                h = new Held(t);
                e.held.put(t.address(), h);
            } else if (h.tracker != t) {
                continue; // the old tracker's slots were given back above; the address is reused next tick
            }
            while (h.count < want && th.reserveSlot(t)) {
                h.count++;
            }
            if (h.count == 0) {
                e.held.remove(t.address());
            }
        }
    }

    private static int wanted(Entry e, PodTracker t, RevisionThrottler th) {
        if (e.all) {
            int cc = th == null ? 0 : th.containerConcurrency();
            return cc == 0 ? 0 : cc;
        }
        return e.wanted.getOrDefault(t.address(), 0);
    }
}
