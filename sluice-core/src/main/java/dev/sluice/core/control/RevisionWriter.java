package dev.sluice.core.control;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.PodAuthority.Change;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules of one revision's control path: every change to its {@link PodTable} is one of the
 * operations here (see {@link Operation}), applied by the revision's single writer thread. It
 * knows nothing about threads: work it starts elsewhere (a readiness check, a pod draining)
 * reports back through the {@link Inbox} it is given, as another operation.
 *
 * <h2>Implementation notes</h2>
 * Only the worker that owns this revision calls the operation methods, one at a time (its
 * {@link RevisionMailbox} guarantees it), so the fields below need no lock; other threads read
 * only the throttler and the snapshot {@link #checks()} (published through {@link ReadinessLedger},
 * an immutable list in a volatile field). Ordering rules kept by every operation:
 * trackers are published before capacity is raised ({@link #updateCapacity()} runs after
 * additions), and capacity is lowered before trackers are removed (pods leave rotation, then
 * capacity is updated, then idle ones are removed).
 *
 * <p>What one observation of a pod does (whose word counts, validation before a tracker
 * exists, IP reuse) is {@link PodAuthority}'s; this class sequences the operations around it:
 * it snapshots discovery for reconciliation, lowers and raises capacity in the right order,
 * starts readiness checks and applies their results, sweeps, and closes.
 */
final class RevisionWriter {

    /** The data path's entry point; the writer raises and lowers its capacity. */
    final RevisionThrottler throttler;

    private final RevisionId id;
    private final RevisionSettings settings;
    private final PodTable table;
    private final NanoClock clock;
    private final ControlMetrics metrics;
    private final TableEditor edits;
    private final PodAuthority authority;
    private final ReadinessLedger checks;
    private final ReadinessProbes probes;
    private final RecalculationLog recalculations;

    /** Pods above which views of the whole table are rebuilt at most every {@link #VIEW_INTERVAL_NANOS}. */
    static final int EAGER_VIEW_PODS = 256;
    static final long VIEW_INTERVAL_NANOS = 100_000_000L;

    private long checksPublishedAt;
    /**
     * A pod's report moved a tracker without anything leaving, and capacity is not updated yet:
     * within a run of reports, capacity (a pass over the pods out of rotation) is updated once,
     * by {@link #settleCapacity}, before the next other operation and at the batch's end.
     */
    private boolean capacityOwed;
    private long metricsReportedAt;

    /** Addresses taken out of rotation by passive health, re-probed until they pass. */
    private final Map<String, String> unreachable = new HashMap<>();
    private List<Endpoint> lastSnapshot;

    RevisionWriter(RevisionId id, RevisionSettings settings, Inbox inbox, NanoClock clock, ReadinessCheck readiness,
            ControlMetrics metrics) {
        this.id = id;
        this.settings = settings;
        this.clock = clock;
        this.probes = new ReadinessProbes(id, readiness, inbox);
        this.metrics = metrics;
        this.checks = new ReadinessLedger(id);
        this.recalculations = new RecalculationLog(id);
        this.table = new PodTable(settings.maxScale());
        this.checksPublishedAt = clock.nanoTime() - VIEW_INTERVAL_NANOS;
        this.metricsReportedAt = checksPublishedAt;
        this.edits = new TableEditor(id, table, settings.containerConcurrency(), clock, metrics);
        this.authority = new PodAuthority(table, edits, checks, this::validate);
        this.throttler = new RevisionThrottler(table, settings.policy().create(), settings.containerConcurrency(),
                settings.queueDepth(), clock);
        table.onDrained(t -> inbox.post(Operation.DRAIN_COMPLETED, w -> w.drainCompleted(t)));
    }

    // ------------------------------------------------------------------ operations

    /** A pod's state from the pod itself or from discovery (create or change). */
    void mutatePod(PodEvent e) {
        checks.changed();
        edits.clearLeavers();
        Change c = authority.apply(e.source(), e.podId(), e.address(), e.state(), clock.nanoTime());
        // Leavers whatever the change: an event ignored for the newcomer (DRAINING for a pod never
        // tracked) may still have retired the old pod at the address (IP reuse).
        if (edits.hasLeavers()) {
            updateCapacity(); // lowered before the idle leavers are removed
            edits.removeIdleLeavers();
        } else if (c != Change.UNCHANGED && c != Change.IGNORED) {
            capacityOwed = true; // raised or lowered once for the run of reports (settleCapacity)
        }
    }

    /**
     * Updates capacity if reports since the last update moved trackers (see {@link #capacityOwed});
     * the mailbox calls it before any operation other than a report, and at a batch's end before
     * its callers hear back.
     */
    void settleCapacity() {
        if (capacityOwed) {
            updateCapacity();
        }
    }

    /** Whether {@code earlier} may be skipped for {@code later} (see {@link PodAuthority#isSupersededBy}). */
    boolean isSupersededBy(PodEvent earlier, PodEvent later) {
        return authority.isSupersededBy(earlier, later);
    }

    /** The pods' own last reports and the retired ids (for tests). */
    String describeAuthority() {
        return authority.describe();
    }

    /** The table's side of {@link #isSupersededBy} for the pod at {@code address} (see {@link PodAuthority#tableAllowsSkip}). */
    boolean tableAllowsSkip(String podId, String address) {
        return authority.tableAllowsSkip(podId, address);
    }

    /**
     * Whether a report in {@code state} may be skipped for a later one of the same pod once the
     * table's side of {@link #isSupersededBy} is known to hold (see {@link PodAuthority#mayBeSuperseded}).
     */
    static boolean mayBeSuperseded(PodState state) {
        return PodAuthority.mayBeSuperseded(state);
    }

    /** The pod at {@code address} is gone: it drains, and is removed when idle. */
    void removePod(String address) {
        checks.changed();
        checks.forget(address);
        authority.forget(address);
        PodTracker t = table.find(address);
        if (t == null) {
            return;
        }
        edits.clearLeavers();
        edits.startDrain(t, clock.nanoTime());
        updateCapacity();
        edits.removeIdleLeavers();
    }

    /**
     * Brings the table in line with a discovery snapshot: existing pods keep their trackers
     * (and in-flight counts), new ones are added (validated first if they claim READY),
     * missing ones drain. Logged through {@link RecalculationLog} (at DEBUG each, at INFO a
     * rate-limited summary).
     */
    RecalculationSummary recalculate(List<Endpoint> snapshot) {
        long now = clock.nanoTime();
        checks.changed();
        lastSnapshot = List.copyOf(snapshot);
        edits.clearLeavers();
        int added = 0;
        int validatingNow = 0;
        int draining = 0;
        int changed = 0;
        int unchanged = 0;
        Set<String> seen = new HashSet<>(snapshot.size() * 2);
        for (Endpoint ep : snapshot) {
            if (!seen.add(ep.address())) {
                continue;
            }
            switch (authority.apply(EventSource.DISCOVERY, ep.podId(), ep.address(), ep.state(), now)) {
                case ADDED -> added++;
                case VALIDATING -> validatingNow++;
                case DRAINING -> draining++;
                case CHANGED -> changed++;
                default -> unchanged++;
            }
        }
        for (PodTracker t : table.trackers()) {
            if (!seen.contains(t.address()) && t.state() != PodState.DRAINING) {
                edits.startDrain(t, now);
                draining++;
            }
        }
        checks.retainOnly(seen);
        updateCapacity();
        int removed = edits.removeIdleLeavers();
        RecalculationSummary summary = new RecalculationSummary(added, validatingNow, draining, removed, changed,
                unchanged);
        recalculations.recalculated(snapshot.size(), summary, now);
        return summary;
    }

    /**
     * The clock's operation: removes PENDING or NOT_READY pods with no event for the stale
     * threshold, removes DRAINING pods at their deadline even with requests in flight, and
     * expires waiting requests.
     */
    void sweep() {
        long now = clock.nanoTime();
        checksPublishedAt = now - VIEW_INTERVAL_NANOS; // a tick rebuilds the views whatever their size
        metricsReportedAt = now - VIEW_INTERVAL_NANOS;
        long stale = settings.staleThreshold().toNanos();
        long drain = settings.drainTimeout().toNanos();
        boolean changedAny = false;
        for (PodTracker t : table.trackers()) {
            long age = now - t.lastStateChangeNanos();
            PodState s = t.state();
            if ((s == PodState.PENDING || s == PodState.NOT_READY) && age >= stale) {
                changedAny |= edits.remove(t, false, now);
            } else if (s == PodState.DRAINING) {
                if (t.inFlight() == 0) {
                    changedAny |= edits.remove(t, false, now);
                } else if (age >= drain && edits.remove(t, true, now)) {
                    metrics.drainDeadlineExpired(id);
                    changedAny = true;
                }
            }
        }
        if (changedAny) {
            checks.changed();
            updateCapacity();
        }
        checks.forEachDueRetry(now, this::validate);
        unreachable.keySet().removeIf(address -> table.find(address) == null);
        unreachable.forEach((address, podId) -> probeUnreachable(podId, address));
        throttler.expireOverdue();
        recalculations.summarizeIfDue(now);
    }

    /** A draining tracker's last request ended (posted by the releasing thread). */
    void drainCompleted(PodTracker t) {
        if (t.state() == PodState.DRAINING && t.inFlight() == 0 && edits.remove(t, false, clock.nanoTime())) {
            updateCapacity();
        }
    }

    /**
     * Passive health: the data path could not reach the pod. It leaves rotation (NOT_READY) and
     * is probed; when a probe passes it returns as RECOVERING. A pod that said NOT_READY or
     * DRAINING itself is left to its own word.
     */
    void podUnreachable(String podId, String address) {
        PodTracker t = table.find(address);
        if (t == null || !t.podId().equals(podId) || !t.state().isRoutable()) {
            return;
        }
        long now = clock.nanoTime();
        edits.moveTo(t, PodState.NOT_READY, now);
        updateCapacity();
        unreachable.put(address, podId);
        probeUnreachable(podId, address);
    }

    /** The result of a probe of a pod that passive health took out of rotation. */
    void recoveryProbeDone(String podId, String address, String failure) {
        boolean passed = failure == null;
        metrics.readinessValidation(id, passed);
        PodTracker t = table.find(address);
        if (!podId.equals(unreachable.get(address)) || t == null || !t.podId().equals(podId)
                || t.state() != PodState.NOT_READY) {
            unreachable.remove(address, podId);
            return;
        }
        checks.record(podId, address, failure, clock.nanoTime());
        if (passed) {
            unreachable.remove(address);
            if (authority.mayReturn(podId, address)) {
                edits.moveTo(t, PodState.RECOVERING, clock.nanoTime());
                updateCapacity();
            }
        }
        // A failed probe is retried by the next sweep.
    }

    private void probeUnreachable(String podId, String address) {
        probes.probe(podId, address, Operation.RECOVERY_PROBE_DONE, RevisionWriter::recoveryProbeDone);
    }

    /** The result of a readiness check started by {@link #validate}. */
    void validationDone(String podId, String address, String failure) {
        if (!podId.equals(checks.validatingId(address))) {
            return; // superseded by a newer event for this address
        }
        boolean passed = failure == null;
        checks.stopValidating(address);
        metrics.readinessValidation(id, passed);
        checks.record(podId, address, failure, clock.nanoTime());
        if (!passed) {
            checks.scheduleRetry(podId, address, clock.nanoTime());
            return;
        }
        checks.cancelRetry(address);
        long now = clock.nanoTime();
        PodTracker existing = table.find(address);
        edits.clearLeavers();
        if (existing != null && existing.podId().equals(podId)) {
            edits.moveTo(existing, PodState.READY, now);
        } else {
            if (existing != null && existing.state() != PodState.DRAINING) {
                authority.retire(existing, now);
            }
            edits.add(podId, address, PodState.READY, now);
            metrics.stateTransition(id, PodState.PENDING, PodState.READY);
        }
        updateCapacity();
        edits.removeIdleLeavers();
    }

    /** A configuration change: every pod and the revision take the new containerConcurrency. */
    void setContainerConcurrency(int cc) {
        edits.setContainerConcurrency(cc);
        throttler.setContainerConcurrency(cc);
    }

    /** Recomputes the revision's capacity from the table and serves waiters. */
    void updateCapacity() {
        capacityOwed = false;
        throttler.updateCapacity();
    }

    /** Reports the table's fragmentation and pods by state (see {@link #dueForViews}). */
    void updateMetrics() {
        long now = clock.nanoTime();
        if (dueForViews(metricsReportedAt, now)) {
            metricsReportedAt = now;
            edits.reportMetrics();
        }
    }

    /**
     * Whether the views built from the whole table (the checks operators read, the pods-by-state
     * metrics) are to be rebuilt now. Each costs a pass over the table, so with more than
     * {@link #EAGER_VIEW_PODS} pods they are rebuilt at most every {@link #VIEW_INTERVAL_NANOS}
     * (on the clock), not after each of 10,000 readiness results; what is left over is rebuilt
     * by the next operation after the interval, or the next tick's sweep.
     */
    private boolean dueForViews(long last, long now) {
        return table.length() + checks.size() <= EAGER_VIEW_PODS || now - last >= VIEW_INTERVAL_NANOS;
    }

    /**
     * Whether {@link #sweep()} could find anything to do apart from waiting requests (which the
     * caller sees in the throttler): pods, checks running or due, unreachable pods, a log
     * summary owed. False for a revision scaled to zero, whose periodic sweep is then skipped.
     */
    boolean needsSweep() {
        return table.size() > 0 || !checks.isIdle() || !unreachable.isEmpty() || recalculations.hasUnsummarized();
    }

    /**
     * Closes the revision: waiting and later requests are rejected with {@code reason}, and
     * every pod's slot is released (requests still running finish on their detached trackers).
     */
    void close(Rejection reason) {
        checks.changed();
        throttler.close(reason);
        checks.clearPending();
        long now = clock.nanoTime();
        for (PodTracker t : table.trackers()) {
            if (t.state().canMoveTo(PodState.DRAINING)) {
                edits.moveTo(t, PodState.DRAINING, now);
            }
            edits.remove(t, true, now);
        }
        updateCapacity();
    }

    /** After a failure: rebuild the view from the last discovery snapshot and the pods' own reports. */
    void reconcile() {
        if (lastSnapshot != null) {
            recalculate(lastSnapshot);
        }
        long now = clock.nanoTime();
        edits.clearLeavers();
        authority.reapplyOwnReports(now);
        updateCapacity();
        edits.removeIdleLeavers();
    }

    private void validate(String podId, String address) {
        checks.startValidating(podId, address);
        probes.validate(podId, address, Operation.VALIDATION_DONE, RevisionWriter::validationDone);
    }

    /** The last published view of the readiness checks; safe from any thread. */
    List<PodCheck> checks() {
        return checks.checks();
    }

    /** Publishes the readiness checks for operators if the batch may have changed them (see {@link #dueForViews}). */
    void publishChecks() {
        long now = clock.nanoTime();
        if (checks.isChanged() && dueForViews(checksPublishedAt, now)) {
            checksPublishedAt = now;
            checks.publish(table);
        }
    }
}
