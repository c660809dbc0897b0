package dev.sluice.core.control;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The mechanics under {@link RevisionWriter}'s rules, used by the writer alone: adds, moves and
 * removes trackers in one revision's {@link PodTable}, reports each transition to
 * {@link ControlMetrics}, and collects the trackers that start draining during an operation
 * so the idle ones are removed only after capacity was lowered.
 *
 * <h2>Implementation notes</h2>
 * Called on the revision's writer thread only (it is the table's single writer), so
 * {@link #leaving} needs no lock. The ordering rule it serves: an operation calls
 * {@link #clearLeavers()}, takes pods out of rotation ({@link #startDrain}), lowers capacity
 * through the throttler, then calls {@link #removeIdleLeavers()}; the table's own publication
 * rules make a removed tracker invisible to the data path. Every tracker enters and leaves the
 * table here, so it also counts the trackers of each pod id ({@link #trackersOf}), which the
 * coalescing check asks once per skipped report instead of scanning the table.
 */
final class TableEditor {

    private final RevisionId id;
    private final PodTable table;
    private final NanoClock clock;
    private final ControlMetrics metrics;
    private final List<PodTracker> leaving = new ArrayList<>();
    /**
     * Trackers in the table by pod id (more than one only while an identity moves or drains);
     * made with the first tracker, so a revision scaled to zero holds none.
     */
    private Map<String, Integer> trackedIds;
    /** containerConcurrency for new trackers; changed live by {@link #setContainerConcurrency}. */
    private int containerConcurrency;

    TableEditor(RevisionId id, PodTable table, int containerConcurrency, NanoClock clock, ControlMetrics metrics) {
        this.id = id;
        this.table = table;
        this.containerConcurrency = containerConcurrency;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** Adds a tracker with the revision's current containerConcurrency. */
    void add(String podId, String address, PodState state, long now) {
        table.add(podId, address, state, containerConcurrency, now);
        if (trackedIds == null) {
            trackedIds = new HashMap<>();
        }
        trackedIds.merge(podId, 1, Integer::sum);
    }

    /** Trackers in the table under {@code podId}. */
    int trackersOf(String podId) {
        return trackedIds == null ? 0 : trackedIds.getOrDefault(podId, 0);
    }

    /** Trackers added from now on take {@code cc}; the throttler changes the existing ones. */
    void setContainerConcurrency(int cc) {
        containerConcurrency = cc;
    }

    /** Whether a tracker started leaving in this operation (capacity must be lowered before it is removed). */
    boolean hasLeavers() {
        return !leaving.isEmpty();
    }

    /** Starts an operation's list of leavers afresh. */
    void clearLeavers() {
        leaving.clear();
    }

    /** Takes the tracker out of rotation (if it may drain) and remembers it as leaving. */
    void startDrain(PodTracker t, long now) {
        if (t.state() != PodState.DRAINING) {
            if (!t.state().canMoveTo(PodState.DRAINING)) {
                return;
            }
            moveTo(t, PodState.DRAINING, now);
        }
        leaving.add(t);
    }

    /** Removes the trackers that started leaving and are idle; run after capacity was lowered. */
    int removeIdleLeavers() {
        int n = 0;
        long now = clock.nanoTime();
        for (PodTracker t : leaving) {
            if (t.inFlight() == 0 && remove(t, false, now)) {
                n++;
            }
        }
        leaving.clear();
        return n;
    }

    void moveTo(PodTracker t, PodState target, long now) {
        PodState from = t.state();
        if (from != target) {
            table.moveTo(t, target, now);
            metrics.stateTransition(id, from, target);
        }
    }

    /** Removes a tracker that is out of rotation; {@code force} removes it with requests in flight. */
    boolean remove(PodTracker t, boolean force, long now) {
        PodState from = t.state();
        if (from.isRoutable()) {
            return false;
        }
        if (table.remove(t, force, now)) {
            trackedIds.computeIfPresent(t.podId(), (k, n) -> n == 1 ? null : n - 1); // added here first
            metrics.stateTransition(id, from, PodState.REMOVED);
            return true;
        }
        return false;
    }

    /** Reports the table's fragmentation and its pods by state. */
    void reportMetrics() {
        metrics.tableUpdated(id, table.fragmentationRatio(), table.podsByState());
    }
}
