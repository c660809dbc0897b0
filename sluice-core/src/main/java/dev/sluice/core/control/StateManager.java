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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The control path: one inbox and one writer per revision, revisions multiplexed over a small
 * fixed pool of worker threads.
 *
 * <h2>Implementation notes</h2>
 * <b>Single writer.</b> Each revision is pinned to one worker when it is opened. A revision's
 * events go into its own inbox (a lock-free multi-producer queue); the first producer to find
 * the revision unscheduled (a CAS on its {@code scheduled} flag) puts it on its worker's ready
 * queue. The worker drains a batch from the inbox, clears the flag, and re-checks the inbox,
 * so an event that raced with the clear is never stranded. A revision is on at most one ready
 * queue at a time and always the same worker's, so its operations never run concurrently and
 * its state needs no lock. There is never a thread per revision: thousands of revisions share
 * the pool.
 *
 * <p><b>Failure recovery.</b> An exception while applying an operation is caught, counted,
 * and logged with the operation; the operation's future fails with it, and the revision stops
 * taking events (they wait in its inbox) for an exponential backoff (from
 * {@link #INITIAL_BACKOFF}, doubling, capped at {@link #MAX_BACKOFF}; all in clock
 * nanoseconds). The next {@link #tick()} after the backoff reconciles the revision from its
 * last discovery snapshot and its pods' own reports, re-evaluates waiting requests, and
 * resumes the inbox. If the revision has been failing for longer than its recovery timeout,
 * {@code tick()} rejects its waiting requests with {@link Rejection#REVISION_UNAVAILABLE}
 * rather than leave them hanging.
 *
 * <p><b>Time.</b> Everything reads the injected {@link NanoClock}; the periodic work (stale
 * sweep, drain deadlines, queue expiry, recovery) runs when {@link #tick()} is called — the
 * server calls it every second, tests call it after advancing a {@code ManualClock}.
 */
public final class StateManager implements AutoCloseable {

    public static final Duration INITIAL_BACKOFF = Duration.ofMillis(100);
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final int BATCH = 256;
    private static final System.Logger LOG = System.getLogger(StateManager.class.getName());

    /** One operation waiting in a revision's inbox. */
    static final class Task {
        final String operation;
        final Function<RevisionWriter, ?> body;
        final CompletableFuture<Object> done;
        final long enqueuedNanos;

        Task(String operation, Function<RevisionWriter, ?> body, CompletableFuture<Object> done, long enqueuedNanos) {
            this.operation = operation;
            this.body = body;
            this.done = done;
            this.enqueuedNanos = enqueuedNanos;
        }
    }

    private final NanoClock clock;
    private final ReadinessCheck readiness;
    private final ControlMetrics metrics;
    private final Worker[] workers;
    private final AtomicInteger nextWorker = new AtomicInteger();
    private final Map<RevisionId, RevisionWriter> revisions = new ConcurrentHashMap<>();
    private final AtomicInteger workerFailures = new AtomicInteger();
    private volatile Consumer<String> faultInjector = op -> { };
    private volatile boolean shutDown;

    /**
     * @param workerThreads writer threads shared by all revisions (2 is plenty for a few
     *                      thousand revisions: the writers' work is microseconds per event)
     */
    public StateManager(int workerThreads, NanoClock clock, ReadinessCheck readiness, ControlMetrics metrics) {
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1, was " + workerThreads);
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.workers = new Worker[workerThreads];
        for (int i = 0; i < workerThreads; i++) {
            workers[i] = new Worker("sluice-writer-" + i);
            workers[i].start();
        }
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
        int worker = Math.floorMod(nextWorker.getAndIncrement(), workers.length);
        RevisionWriter w = new RevisionWriter(id, settings, worker, this, clock, readiness, metrics);
        if (revisions.putIfAbsent(id, w) != null) {
            throw new IllegalStateException("revision " + id + " is already open");
        }
        return w.throttler;
    }

    /**
     * Closes a revision (deleted from the configuration): its waiting requests fail with
     * {@link Rejection#REVISION_CLOSED}, every pod slot is released, and it is forgotten.
     */
    public CompletableFuture<Void> close(RevisionId id) {
        RevisionWriter w = revisions.remove(id);
        if (w == null) {
            return CompletableFuture.failedFuture(new UnknownRevisionException(id));
        }
        return submit(w, "close", rw -> {
            rw.close(Rejection.REVISION_CLOSED);
            return null;
        }).thenApply(x -> null);
    }

    /** The throttler of an open revision, or null. */
    public RevisionThrottler throttler(RevisionId id) {
        RevisionWriter w = revisions.get(id);
        return w == null ? null : w.throttler;
    }

    /**
     * The revision's pods as its readiness checks see them: pods waiting for a check to pass
     * (which have no slot yet) and the last check of each known pod. A snapshot the writer
     * publishes after each batch; empty for an unknown revision.
     */
    public List<PodCheck> checks(RevisionId id) {
        RevisionWriter w = revisions.get(id);
        return w == null ? List.of() : w.checks;
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
        RevisionWriter w = writer(event.revision());
        return submit(w, "mutate-pod", rw -> {
            rw.mutatePod(event);
            return null;
        }).thenApply(x -> null);
    }

    /**
     * The pod at {@code address} is gone (deleted, or dropped from discovery one by one).
     *
     * @throws UnknownRevisionException if the revision is not open
     * @throws IllegalArgumentException if the address is malformed (nothing changes)
     */
    public CompletableFuture<Void> removePod(RevisionId revision, String address) {
        Addresses.requireHostPort(address);
        RevisionWriter w = writer(revision);
        return submit(w, "remove-pod", rw -> {
            rw.removePod(address);
            return null;
        }).thenApply(x -> null);
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
        RevisionWriter w = writer(revision);
        return submit(w, "update-capacity", rw -> {
            rw.setContainerConcurrency(cc);
            return null;
        }).thenApply(x -> null);
    }

    /**
     * Passive health: the data path could not connect to this pod. It leaves rotation and is
     * probed until its readiness check passes, then returns as RECOVERING.
     *
     * @throws UnknownRevisionException if the revision is not open
     */
    public CompletableFuture<Void> reportUnreachable(RevisionId revision, String podId, String address) {
        RevisionWriter w = writer(revision);
        return submit(w, "pod-unreachable", rw -> {
            rw.podUnreachable(podId, address);
            return null;
        }).thenApply(x -> null);
    }

    /**
     * Replaces the revision's view with a discovery snapshot (static config, EndpointSlices).
     *
     * @throws UnknownRevisionException if the revision is not open
     */
    public CompletableFuture<RecalculationSummary> recalculate(RevisionId revision, List<Endpoint> snapshot) {
        List<Endpoint> copy = List.copyOf(snapshot);
        RevisionWriter w = writer(revision);
        return submit(w, "recalculate", rw -> rw.recalculate(copy)).thenApply(RecalculationSummary.class::cast);
    }

    /**
     * The periodic work of every revision: stale sweep, drain deadlines, queue expiry, and
     * recovery of failed writers. Call it every second or so.
     */
    public void tick() {
        long now = clock.nanoTime();
        for (RevisionWriter w : revisions.values()) {
            if (w.recoveryOverdue(now) && w.throttler.queued() > 0) {
                int n = w.throttler.rejectWaiting(Rejection.REVISION_UNAVAILABLE);
                LOG.log(System.Logger.Level.WARNING, "{0}: writer has not recovered within {1}; rejected {2} waiting requests",
                        w.id, w.settings.recoveryTimeout(), n);
            }
            submit(w, "sweep", rw -> {
                rw.sweep();
                return null;
            });
        }
    }

    /**
     * Completes when every event submitted to the revision before this call has been applied
     * (for tests and orderly hand-overs).
     */
    public CompletableFuture<Void> flush(RevisionId revision) {
        return submit(writer(revision), "flush", rw -> null).thenApply(x -> null);
    }

    /** Counted writer failures since start. */
    public int writerFailures() {
        return workerFailures.get();
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
        for (RevisionWriter w : revisions.values()) {
            w.throttler.close(Rejection.SHUTTING_DOWN);
            submit(w, "close", rw -> {
                rw.close(Rejection.SHUTTING_DOWN);
                return null;
            });
        }
        for (Worker worker : workers) {
            worker.stopAfterQueue();
        }
        for (Worker worker : workers) {
            try {
                worker.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        revisions.clear();
    }

    // ------------------------------------------------------------------ plumbing

    /** For tests: runs before every operation; throwing from it simulates a writer bug. */
    void injectFaults(Consumer<String> beforeOperation) {
        this.faultInjector = Objects.requireNonNull(beforeOperation);
    }

    int consecutiveFailures(RevisionId id) {
        return writer(id).consecutiveFailures();
    }

    private RevisionWriter writer(RevisionId id) {
        RevisionWriter w = revisions.get(id);
        if (w == null) {
            throw new UnknownRevisionException(id);
        }
        return w;
    }

    /** Posts an operation without a caller waiting for it (drain notices, validation results). */
    void post(RevisionWriter w, String operation, Consumer<RevisionWriter> body) {
        submit(w, operation, rw -> {
            body.accept(rw);
            return null;
        });
    }

    private CompletableFuture<Object> submit(RevisionWriter w, String operation, Function<RevisionWriter, ?> body) {
        CompletableFuture<Object> done = new CompletableFuture<>();
        w.inbox.add(new Task(operation, body, done, clock.nanoTime()));
        schedule(w);
        return done;
    }

    private void schedule(RevisionWriter w) {
        if (w.scheduled.compareAndSet(false, true)) {
            workers[w.worker].ready.add(w);
        }
    }

    /** Runs a batch of one revision's inbox on its worker. */
    private void run(RevisionWriter w) {
        long now = clock.nanoTime();
        boolean progressed = true;
        if (w.needsRecovery()) {
            if (w.isBackingOff(now)) {
                progressed = false;
            } else {
                try {
                    faultInjector.accept("reconcile");
                    w.reconcile();
                    w.recovered();
                    LOG.log(System.Logger.Level.INFO, "{0}: writer recovered and reconciled", w.id);
                } catch (RuntimeException e) {
                    workerFailures.incrementAndGet();
                    w.failed("reconcile", e, now, INITIAL_BACKOFF.toNanos(), MAX_BACKOFF.toNanos());
                    progressed = false;
                }
            }
        }
        if (progressed) {
            for (int i = 0; i < BATCH; i++) {
                Task t = w.inbox.poll();
                if (t == null) {
                    break;
                }
                long start = clock.nanoTime();
                metrics.inboxWait(w.id, start - t.enqueuedNanos);
                try {
                    faultInjector.accept(t.operation);
                    Object result = t.body.apply(w);
                    w.publishChecks(); // before the caller hears back, so it sees its own change
                    metrics.processed(w.id, t.operation, clock.nanoTime() - start);
                    t.done.complete(result);
                } catch (RuntimeException e) {
                    workerFailures.incrementAndGet();
                    w.failed(t.operation, e, clock.nanoTime(), INITIAL_BACKOFF.toNanos(), MAX_BACKOFF.toNanos());
                    t.done.completeExceptionally(e);
                    break;
                }
            }
            try {
                w.updateMetrics();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, w.id + ": metrics update failed", e);
            }
        }
        w.scheduled.set(false);
        // Re-check: an event added after our last poll found the flag still set and did not
        // schedule. A revision backing off is left for tick() to wake.
        if (!w.inbox.isEmpty() && !w.isBackingOff(clock.nanoTime())) {
            schedule(w);
        }
    }

    /** One writer thread and its queue of revisions with work. */
    private final class Worker extends Thread {
        final LinkedBlockingQueue<RevisionWriter> ready = new LinkedBlockingQueue<>();
        private volatile boolean stopping;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        /** Finishes the revisions already queued (their close operations), then ends. */
        void stopAfterQueue() {
            stopping = true;
            interrupt();
        }

        @Override
        public void run() {
            for (;;) {
                RevisionWriter w;
                if (stopping) {
                    w = ready.poll();
                    if (w == null) {
                        return;
                    }
                } else {
                    try {
                        w = ready.take();
                    } catch (InterruptedException e) {
                        continue; // stopping was set; drain what is left
                    }
                }
                try {
                    StateManager.this.run(w);
                } catch (RuntimeException | Error e) {
                    LOG.log(System.Logger.Level.ERROR, getName() + " failed outside an operation", e);
                    w.scheduled.set(false);
                }
            }
        }
    }
}
