package dev.sluice.core.control;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The control path's public face: one inbox and one writer per revision, revisions
 * multiplexed over a small fixed pool of worker threads. Each method checks its arguments,
 * then queues one {@link Operation} in the revision's {@link RevisionMailbox}; the
 * {@link RevisionWriter} applies it on the revision's worker and the returned future
 * completes. A pod's report that finds its revision's writer idle is applied by the reporting
 * thread itself ({@link ReportApplying#BY_CALLER}, the default), its future complete when
 * {@link #report} returns.
 *
 * <h2>Implementation notes</h2>
 * This class holds no revision state of its own: the open revisions are a
 * {@link ConcurrentHashMap} from id to mailbox, so any thread may open, close, report and
 * tick concurrently. The single-writer argument lives in {@link RevisionMailbox}, the threads
 * in {@link WriterPool}, the backoff in {@link WriterRecovery}. {@link #close()} is meant to
 * be called once, by the thread that shuts the server down; the volatile {@code shutDown}
 * flag makes a later {@link #open} fail.
 *
 * <p><b>Failure recovery.</b> An exception while applying an operation fails that
 * operation's future and holds the revision's inbox for an exponential backoff (from
 * {@link #INITIAL_BACKOFF}, doubling, capped at {@link #MAX_BACKOFF}; clock nanoseconds). The
 * next {@link #tick()} after the backoff reconciles the revision and resumes it; a revision
 * failing for longer than its recovery timeout has its waiting requests rejected with
 * {@link Rejection#REVISION_UNAVAILABLE}.
 *
 * <p><b>Time.</b> Everything reads the injected {@link NanoClock}; the periodic work (stale
 * sweep, drain deadlines, queue expiry, recovery) runs when {@link #tick()} is called — the
 * server calls it every second, tests call it after advancing a {@code ManualClock}.
 */
public final class StateManager implements AutoCloseable {

    public static final Duration INITIAL_BACKOFF = WriterRecovery.INITIAL_BACKOFF;
    public static final Duration MAX_BACKOFF = WriterRecovery.MAX_BACKOFF;

    private final NanoClock clock;
    private final ReadinessCheck readiness;
    private final ControlMetrics metrics;
    private final WriterPool pool;
    private final ReportApplying reports;
    private final WriterFailures failures = new WriterFailures();
    private final Map<RevisionId, RevisionMailbox> revisions = new ConcurrentHashMap<>();
    private volatile boolean shutDown;

    /** Who applies a pod's report when its revision's writer is idle. */
    public enum ReportApplying {
        /**
         * The reporting thread itself, at once, with whatever reports queued behind it (at
         * most {@value RevisionMailbox#CALLER_BATCH}; the rest, and any other operation, go to
         * the worker): no hand-off to a worker thread, so a report's wait does not depend on
         * the scheduler giving the worker a core.
         */
        BY_CALLER,
        /** Always the revision's worker thread. */
        BY_WORKER
    }

    /**
     * As {@link #StateManager(int, NanoClock, ReadinessCheck, ControlMetrics, ReportApplying)},
     * with reports applied {@link ReportApplying#BY_CALLER}.
     */
    public StateManager(int workerThreads, NanoClock clock, ReadinessCheck readiness, ControlMetrics metrics) {
        this(workerThreads, clock, readiness, metrics, ReportApplying.BY_CALLER);
    }

    /**
     * @param workerThreads writer threads shared by all revisions (2 is plenty for a few
     *                      thousand revisions: the writers' work is microseconds per event)
     * @param reports       who applies a report that finds its revision's writer idle
     */
    public StateManager(int workerThreads, NanoClock clock, ReadinessCheck readiness, ControlMetrics metrics,
            ReportApplying reports) {
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1, was " + workerThreads);
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.reports = Objects.requireNonNull(reports, "reports");
        this.pool = new WriterPool(workerThreads);
    }

    // ------------------------------------------------------------------ revisions

    /**
     * Starts running a revision and returns its throttler (the data path's entry point).
     *
     * @throws IllegalStateException if the revision is already open or the manager is shut down
     */
    public RevisionThrottler open(RevisionId id, RevisionSettings settings) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(settings, "settings");
        if (shutDown) {
            throw new IllegalStateException("state manager is shut down");
        }
        RevisionMailbox m = new RevisionMailbox(id, settings, pool, failures, clock, readiness, metrics,
                reports == ReportApplying.BY_CALLER);
        if (revisions.putIfAbsent(id, m) != null) {
            throw new IllegalStateException("revision " + id + " is already open");
        }
        return m.throttler();
    }

    /**
     * Closes a revision (deleted from the configuration): its waiting requests fail with
     * {@link Rejection#REVISION_CLOSED}, every pod slot is released, and it is forgotten.
     */
    public CompletableFuture<Void> close(RevisionId id) {
        RevisionMailbox m = revisions.remove(id);
        if (m == null) {
            return CompletableFuture.failedFuture(new UnknownRevisionException(id));
        }
        return run(m, Operation.CLOSE, w -> w.close(Rejection.REVISION_CLOSED));
    }

    /** The throttler of an open revision, or null. */
    public RevisionThrottler throttler(RevisionId id) {
        RevisionMailbox m = revisions.get(id);
        return m == null ? null : m.throttler();
    }

    /**
     * The revision's pods as its readiness checks see them: pods waiting for a check to pass
     * (which have no slot yet) and the last check of each known pod. A snapshot the writer
     * publishes after each batch; empty for an unknown revision.
     */
    public List<PodCheck> checks(RevisionId id) {
        RevisionMailbox m = revisions.get(id);
        return m == null ? List.of() : m.checks();
    }

    public Set<RevisionId> revisions() {
        return Set.copyOf(revisions.keySet());
    }

    // ------------------------------------------------------------------ events

    /**
     * A pod's state from the pod itself or from discovery.
     *
     * @throws UnknownRevisionException if the event's revision is not open (nothing changes)
     */
    public CompletableFuture<Void> report(PodEvent event) {
        return mailbox(event.revision()).reportAndForget(event);
    }

    /**
     * The pod at {@code address} is gone (deleted, or dropped from discovery one by one).
     *
     * @throws UnknownRevisionException if the revision is not open
     * @throws IllegalArgumentException if the address is malformed (nothing changes)
     */
    public CompletableFuture<Void> removePod(RevisionId revision, String address) {
        Addresses.requireHostPort(address);
        return run(mailbox(revision), Operation.REMOVE_POD, w -> w.removePod(address));
    }

    /**
     * Changes a revision's containerConcurrency live (configuration reload): every pod's limit
     * and the revision's capacity follow; running requests are never pre-empted.
     *
     * @throws UnknownRevisionException if the revision is not open
     * @throws IllegalArgumentException if {@code cc} is negative (nothing changes)
     */
    public CompletableFuture<Void> setContainerConcurrency(RevisionId revision, int cc) {
        if (cc < 0) {
            throw new IllegalArgumentException("containerConcurrency must be >= 0, was " + cc);
        }
        return run(mailbox(revision), Operation.UPDATE_CAPACITY, w -> w.setContainerConcurrency(cc));
    }

    /**
     * Passive health: the data path could not connect to this pod. It leaves rotation and is
     * probed until its readiness check passes, then returns as RECOVERING.
     *
     * @throws UnknownRevisionException if the revision is not open
     */
    public CompletableFuture<Void> reportUnreachable(RevisionId revision, String podId, String address) {
        return run(mailbox(revision), Operation.POD_UNREACHABLE, w -> w.podUnreachable(podId, address));
    }

    /**
     * Replaces the revision's view with a discovery snapshot (static config, EndpointSlices).
     *
     * @throws UnknownRevisionException if the revision is not open
     */
    public CompletableFuture<RecalculationSummary> recalculate(RevisionId revision, List<Endpoint> snapshot) {
        List<Endpoint> copy = List.copyOf(snapshot);
        RevisionMailbox m = mailbox(revision);
        return m.query(Operation.RECALCULATE, w -> w.recalculate(copy)).thenApply(RecalculationSummary.class::cast);
    }

    /**
     * The periodic work of every revision: stale sweep, drain deadlines, queue expiry, and
     * recovery of failed writers. Call it every second or so.
     */
    public void tick() {
        long now = clock.nanoTime();
        for (RevisionMailbox m : revisions.values()) {
            m.tick(now);
        }
    }

    /**
     * Completes when every event submitted to the revision before this call has been applied
     * (for tests and orderly hand-overs).
     */
    public CompletableFuture<Void> flush(RevisionId revision) {
        return mailbox(revision).query(Operation.FLUSH, w -> null).thenApply(x -> null);
    }

    /** Counted writer failures since start. */
    public int writerFailures() {
        return failures.count();
    }

    /**
     * Stops everything: every revision's waiting and later requests fail with
     * {@link Rejection#SHUTTING_DOWN}, every slot is released, and the worker threads end.
     */
    @Override
    public void close() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        for (RevisionMailbox m : revisions.values()) {
            m.throttler().close(Rejection.SHUTTING_DOWN);
            m.post(Operation.CLOSE, w -> w.close(Rejection.SHUTTING_DOWN));
        }
        if (!pool.shutdown()) {
            return;
        }
        revisions.clear();
    }

    // ------------------------------------------------------------------ plumbing

    /** For tests: runs before every operation; throwing from it simulates a writer bug. */
    void injectFaults(Consumer<String> beforeOperation) {
        failures.inject(beforeOperation);
    }

    int consecutiveFailures(RevisionId id) {
        return mailbox(id).consecutiveFailures();
    }

    private RevisionMailbox mailbox(RevisionId id) {
        RevisionMailbox m = revisions.get(id);
        if (m == null) {
            throw new UnknownRevisionException(id);
        }
        return m;
    }

    /** Queues an operation that returns nothing; the future completes once it is applied. */
    private static CompletableFuture<Void> run(RevisionMailbox m, Operation operation, Consumer<RevisionWriter> body) {
        return m.submit(operation, body).thenApply(x -> null);
    }
}
