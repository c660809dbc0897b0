package dev.sluice.core.control;

import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * Whose word counts for a pod, and what one observation of it (a pod's own report or a line
 * of a discovery snapshot) does to one revision's table. Used by its {@link RevisionWriter}
 * alone, for {@code mutate-pod}, {@code recalculate} and {@code reconcile}.
 *
 * <h2>Implementation notes</h2>
 * Called on the revision's writer thread only, so the maps need no lock. The rules:
 * <ul>
 *   <li>Authority: {@link #podReports} keeps each address's last report from the pod itself.
 *       Discovery cannot make a pod routable again after the pod said DRAINING or NOT_READY;
 *       only the pod's own READY can (or its return under a new identity).</li>
 *   <li>Validation: a pod unknown to Sluice whose first event claims READY gets no tracker
 *       until its readiness check passes (the writer starts it; the {@link ReadinessLedger}
 *       remembers which identity it is for, and a scheduled retry answers discovery repeating
 *       the same claim).</li>
 *   <li>Identity: an event whose pod id differs from the tracker's at that address is IP
 *       reuse — the old tracker drains, its id is retired (a late event carrying it is ignored
 *       and can never make it READY), and the new pod is treated as new.</li>
 * </ul>
 */
final class PodAuthority {

    /** What one applied observation did to the table. */
    enum Change { ADDED, VALIDATING, DRAINING, CHANGED, UNCHANGED, IGNORED }

    private static final int MAX_RETIRED_IDS = 4096;

    private record Report(String podId, PodState state) {
    }

    private final PodTable table;
    private final TableEditor edits;
    private final ReadinessLedger checks;
    /** Starts a readiness check of (podId, address); the writer's, so results reach it. */
    private final BiConsumer<String, String> validate;
    private final Map<String, Report> podReports = new HashMap<>();
    private final Set<String> retiredIds = new LinkedHashSet<>();

    PodAuthority(PodTable table, TableEditor edits, ReadinessLedger checks, BiConsumer<String, String> validate) {
        this.table = table;
        this.edits = edits;
        this.checks = checks;
        this.validate = validate;
    }

    /** Applies one observation of the pod at {@code address}. */
    Change apply(EventSource source, String podId, String address, PodState state, long now) {
        if (retiredIds.contains(podId)) {
            return Change.IGNORED; // a stale identity never becomes READY
        }
        String retrying = checks.retryingId(address);
        if (retrying != null) {
            if (source == EventSource.DISCOVERY && state == PodState.READY && retrying.equals(podId)) {
                return Change.VALIDATING; // discovery repeating itself: the scheduled retry answers it
            }
            // A new claim (or the pod itself saying it is ready now): the old schedule no longer stands.
            checks.cancelRetry(address);
        }
        if (source == EventSource.POD) {
            podReports.put(address, new Report(podId, state));
        }
        PodTracker t = table.find(address);
        if (t != null && !t.podId().equals(podId)) {
            if (t.state() == PodState.DRAINING) {
                t = null; // the old pod is on its way out; the address belongs to the newcomer
            } else {
                retire(t, now);
                t = null;
            }
        }
        if (t == null) {
            return applyToUnknown(podId, address, state, now);
        }
        table.touch(t, now);
        PodState current = t.state();
        if (source == EventSource.DISCOVERY && state == PodState.READY) {
            Report own = podReports.get(address);
            boolean podSaidNo = own != null && own.podId().equals(podId)
                    && (own.state() == PodState.DRAINING || own.state() == PodState.NOT_READY);
            if (podSaidNo || current == PodState.DRAINING) {
                return Change.UNCHANGED; // only the pod's own READY undoes its NOT_READY or drain
            }
        }
        switch (state) {
            case READY -> {
                if (current.isRoutable()) {
                    return Change.UNCHANGED;
                }
                edits.moveTo(t, PodState.READY, now);
                return Change.CHANGED;
            }
            case NOT_READY, PENDING -> {
                if (current == PodState.NOT_READY || !current.canMoveTo(PodState.NOT_READY)) {
                    return Change.UNCHANGED;
                }
                edits.moveTo(t, PodState.NOT_READY, now);
                return Change.CHANGED;
            }
            case DRAINING -> {
                if (current == PodState.DRAINING) {
                    return Change.UNCHANGED;
                }
                edits.startDrain(t, now);
                return Change.DRAINING;
            }
            default -> throw new IllegalArgumentException("state " + state + " cannot be applied");
        }
    }

    /**
     * Whether the pod's own report {@code earlier} may be skipped because {@code later}, a later
     * report of the same pod (same address and id, also from the pod) follows it with nothing
     * between them that touches this address or names this id: applying both then gives the same table as
     * applying {@code later} alone. True only where that is plain from the rules of
     * {@link #apply}: the pod is tracked under this id in READY or NOT_READY, and under this
     * id at no other address, {@code earlier}
     * moves it at most between those two, no identity is retired and no retry scheduled (which
     * {@code earlier} would cancel); then {@code later} sets the same state, the same last report
     * and the same capacity whichever of the two it starts from. Anything else (a pod being
     * validated, draining, recovering; discovery's word) is applied one by one.
     */
    boolean isSupersededBy(PodEvent earlier, PodEvent later) {
        if (earlier.source() != EventSource.POD || later.source() != EventSource.POD
                || !earlier.address().equals(later.address()) || !earlier.podId().equals(later.podId())
                || !mayBeSuperseded(earlier.state())) {
            return false;
        }
        return tableAllowsSkip(earlier.podId(), earlier.address());
    }

    /**
     * The table's side of {@link #isSupersededBy}: the pod is tracked at {@code address} under
     * {@code podId} in READY or NOT_READY, under this id nowhere else, its id is not retired and
     * no retry is scheduled there. While that holds, a report of this pod that moves it at most
     * between READY and NOT_READY is undone by the next one, and a report of another address and
     * id cannot touch it (it may retire only the id tracked at its own address).
     */
    boolean tableAllowsSkip(String podId, String address) {
        if (retiredIds.contains(podId) || checks.retryingId(address) != null) {
            return false;
        }
        PodTracker t = table.find(address);
        if (t == null || !t.podId().equals(podId)
                || (t.state() != PodState.READY && t.state() != PodState.NOT_READY)) {
            return false;
        }
        // The same id tracked at another address too: a report there (IP reuse) may retire it
        // between the two, so the earlier report's own word matters. Rare; a count, not a scan,
        // since in a burst nearly every report asks.
        return edits.trackersOf(podId) == 1;
    }

    /**
     * The earlier report's own side of {@link #isSupersededBy}: it moves the pod at most between
     * READY and NOT_READY. The rest (both the pod's own reports, same address and id; the
     * table's side) holds for every report of a pod's run in a batch once it held for the first:
     * the mailbox only marks reports with nothing between them that touches this address or
     * names this id, and the table's side reads only those entries (this address's tracker and
     * retry, this id's trackers and retirement), which a skip leaves as they were.
     */
    static boolean mayBeSuperseded(PodState s) {
        return s == PodState.READY || s == PodState.NOT_READY || s == PodState.PENDING;
    }

    /** The pods' own last reports by address, and the retired ids in the order retired (for tests). */
    String describe() {
        return new TreeMap<>(podReports) + " retired=" + retiredIds;
    }

    /** Applies every pod's own last report again (after a failure, over the discovery view). */
    void reapplyOwnReports(long now) {
        for (Map.Entry<String, Report> r : new ArrayList<>(podReports.entrySet())) {
            apply(EventSource.POD, r.getValue().podId(), r.getKey(), r.getValue().state(), now);
        }
    }

    /** Whether the pod's own word lets it back into rotation: it said READY, or nothing under this identity. */
    boolean mayReturn(String podId, String address) {
        Report own = podReports.get(address);
        return own == null || !own.podId().equals(podId) || own.state() == PodState.READY;
    }

    /** The pod at {@code address} is gone: its reports no longer count. */
    void forget(String address) {
        podReports.remove(address);
    }

    /** IP reuse: the old pod drains, and its identity may never come back. */
    void retire(PodTracker old, long now) {
        if (retiredIds.size() >= MAX_RETIRED_IDS) {
            String eldest = retiredIds.iterator().next();
            retiredIds.remove(eldest);
        }
        retiredIds.add(old.podId());
        Report own = podReports.get(old.address());
        if (own != null && own.podId().equals(old.podId())) {
            podReports.remove(old.address());
        }
        edits.startDrain(old, now);
    }

    private Change applyToUnknown(String podId, String address, PodState state, long now) {
        switch (state) {
            case READY -> {
                if (podId.equals(checks.validatingId(address))) {
                    return Change.VALIDATING;
                }
                validate.accept(podId, address);
                return Change.VALIDATING;
            }
            case NOT_READY, PENDING -> {
                checks.stopValidating(address);
                edits.add(podId, address, state, now);
                return Change.ADDED;
            }
            default -> {
                checks.stopValidating(address);
                return Change.IGNORED; // draining a pod we never tracked: nothing to do
            }
        }
    }
}
