package dev.sluice.core.control;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.concurrent.JoinableNode;
import dev.sluice.core.concurrent.MpscFutureQueue;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One revision's inbox and the loop that feeds it to the revision's {@link RevisionWriter}
 * on its worker, in batches, holding it back while the writer recovers from a failure.
 *
 * <h2>Implementation notes</h2>
 * <b>Single writer.</b> The mailbox is pinned to one worker of the {@link WriterPool} when it
 * is created. Operations go into {@link #inbox}, an {@link MpscFutureQueue}: each operation
 * is its caller's future and its own link, so a producer allocates one object and does one
 * atomic exchange, and the writer polls without an atomic operation (a report is posted under
 * the producers' lock, and may instead join its pod's pending report: see "Joining"). The first producer to
 * find the mailbox unscheduled (a CAS on {@link #scheduled}) puts its batch on the worker's
 * ready queue. The worker applies up to {@link #BATCH} operations, clears the flag, and
 * re-checks the inbox (its tail: an operation offered but not yet linked counts), so an
 * operation that raced with the clear is never stranded ({@code InboxStress} in
 * sluice-stress). A mailbox is on at most one ready queue at a time and always the same
 * worker's, so the writer's operations never run concurrently and its state needs no lock.
 * Ordering: an operation's fields are published by the inbox (the release store that links
 * it happens-before the acquire read that polls it); the writer's state is only ever touched
 * on the one worker thread, so program order covers it; and a batch's volatile clear of the
 * flag happens-before the CAS that schedules the next batch, so no batch starts before the
 * previous one has ended (whichever thread runs it: see "Reports applied by their caller").
 * A producer reads the flag before it tries the CAS (in a burst it is
 * set, and a failed CAS would still pull the cache line away from the worker). That read
 * cannot strand an operation: the producer's offer (an exchange on the tail) and the worker's
 * clear come before, in each thread, its read of the other (the flag; the inbox's tail), and
 * volatile accesses are sequentially consistent, so at least one of the two reads sees the
 * other's write: the producer schedules, or the worker's re-check finds the operation.
 *
 * <p><b>Reports applied by their caller.</b> In a mailbox made {@code byCaller} (the
 * server's), a report that finds the mailbox idle skips the hand-off: the caller whose CAS on
 * {@link #scheduled} wins runs the batch itself instead of putting it on the worker's ready
 * queue. Such a batch takes only reports from the inbox's head, at most {@link #CALLER_BATCH},
 * and stops before any other operation (a discovery snapshot of thousands of pods, a sweep, a
 * query: the worker's to run); its re-check hands whatever is left to the worker. So a
 * caller's extra work is bounded by a few dozen reports' application, microseconds. The
 * single-writer argument does not change: only the flag's holder runs a batch, and one batch's
 * clear of the flag happens-before the CAS of whoever runs the next, on whatever thread. The
 * writer's state needs no lock, but it is no longer confined to one thread, so nothing in the
 * writer may depend on which thread runs it ({@link BatchScratch} is per thread, not per
 * revision, so it stays safe). A caller-applied report's future completes before
 * {@link #report} returns, on the caller's thread (the server's control loop, which hands its
 * answer to its channel as before). A mailbox that is recovering, or holds back operations of
 * a failed batch, leaves everything to the worker and its backoff. Why: the hand-off costs a
 * wake-up, and where the scheduler runs the woken worker on the reporting thread's own core
 * (the 2-core VM of {@code docs/benchmarks.md}: in a burst the producer and the worker each
 * waited about half the time for a core), a report's wait was the worker's wait for a core,
 * not its work.
 *
 * <p><b>Batching.</b> A batch applies its operations one by one, in order (each sees the
 * table the previous one left, so the table is the one-by-one result), but does once, at its
 * end, what depends only on the resulting table: publishing the readiness checks' view,
 * computing {@link #quiet}, reporting the table's metrics. Only then are the operations'
 * futures completed, in order, so a caller that hears back sees its own change. Capacity is
 * updated within each operation, in the order the writer's rules require, except that a run
 * of reports that move pods without any leaving updates it once
 * ({@link RevisionWriter#settleCapacity}, before the next other operation and at the batch's
 * end, before the callers hear back): the update sums the requests on the pods out of
 * rotation, a pass over them, which per applied report made a burst quadratic in pods.
 *
 * <p><b>Coalescing.</b> A batch takes up to {@link #BATCH} operations out of the inbox before
 * applying any. A pod's own report followed in the batch by another report of the same pod,
 * with nothing between them but reports of other addresses, is skipped at its turn if the
 * writer says the later one alone gives the same table ({@link RevisionWriter#isSupersededBy});
 * its future completes with the batch. So a pod flapping forty times in a burst is applied
 * once. The writer's work per skipped report is kept small: the table's side of that check
 * (four lookups) is made for the first report of a pod's run in the batch only, and carried
 * along the run ({@code MailboxReport.tableAllowsSkip}): nothing between two marked reports touches
 * the pod's address or names its id, and a skip changes nothing, so it still holds; for the
 * rest only the report's own state is checked. The producer copies the event's fields into the
 * report and makes its address and id the revision's one instance of each ({@link PodNames}),
 * so the writer's marking finds its keys equal by reference, in lines it already holds. A
 * skipped report then costs the writer a poll, two map updates, a clock read and its future's
 * completion. A discovery snapshot followed at once by a newer one is skipped: the newer one is
 * the view, and the older one's caller gets the newer one's summary. The batch's arrays and the
 * marking live in {@link BatchScratch}, one per thread that runs batches, not per revision.
 *
 * <p><b>Joining.</b> A pod's report may join the pod's report still waiting in the inbox (not
 * yet taken by a batch) instead of becoming a node of its own, so in a burst the inbox holds
 * about one report per pod, not one per event, and the writer's work per joined event is a
 * read of its enqueue time (for its inbox-wait metric). A report node is a {@link JoinableNode}:
 * the run's events and their enqueue times are kept in arrays (the writer reads the times as a
 * few sequential lines), the batch closes the node with one exchange of its count when it takes
 * it, so a join either lands in the run the writer takes or is refused, and the event goes into
 * a new node (sluice-stress {@code JoinStress}). The writer applies a run like
 * a chain of reports one of which supersedes the one before: it checks the table's side of
 * {@link RevisionWriter#isSupersededBy} once, and applies only the run's last event. For that
 * to give the one-by-one table, an event joins the pending report {@code r} of its address and
 * id only if all of this holds (checked by the producers, under their lock: one monitor on the
 * revision's {@link PodNames}, which the writer never takes; it serialises reports among
 * producers, so report nodes enter the inbox in lock order):
 * <ul>
 *   <li>the event and {@code r} are the pod's own word (source POD), and {@code r}'s run so
 *       far moves the pod at most between READY and NOT_READY ({@code lastState}); a
 *       DRAINING report may end a run, never continue one;</li>
 *   <li>no report named the address or the id after {@code r}: each name ({@link PodNames.Name})
 *       keeps the last report posted that named it, and {@code r} must be the last of both (a
 *       report of another id at the address, of the id at another address, or discovery's word
 *       on the pod replaces it, so closes it);</li>
 *   <li>no other operation (an action, a query: a removal, a snapshot, a check's result, a
 *       sweep) was posted after {@code r}. Those bump {@link #barriersStarted} before their
 *       offer and {@link #barriersEnded} after it. A report records the count if none was under
 *       way from before its offer (started equal to ended, read before) to after it (started
 *       read again after): so a barrier anywhere between the report and a later read of the
 *       count changed it. A join reads {@code barriersStarted} and requires the report's count:
 *       a barrier whose offer happened-before the join started is seen (its start precedes its
 *       offer, program order and the volatile accesses' total order), and one that is not seen
 *       is concurrent with the join, which may then be ordered before it;</li>
 *   <li>the table's side of {@code isSupersededBy} will hold at {@code r}'s turn: the pod
 *       tracked at the address under this id alone, READY or NOT_READY, not retired, no retry.
 *       The writer gives each report a verdict after applying it ({@link MailboxReport#verdict}: that
 *       side holds now). {@code r} is joinable if the report before it of the same address and
 *       id, with no barrier between them that may change the table (counted apart: every
 *       operation but a flush, which only reads), has the verdict ALLOWS, or was itself joinable and its
 *       run only flapped (which keeps that side true), or, while the writer lags, if the oldest
 *       such report of the chain ({@link MailboxReport#anchor}) has it. Between the two nothing could
 *       touch the pod: a report of another address and id retires only the id tracked at its
 *       own address, which is not this one's since the id is tracked at this address alone;
 *       so the table's side still holds at {@code r}'s turn, and no report between {@code r}
 *       and the run's last event interacts with the run: applying the last one at {@code r}'s
 *       place is applying it at its own.</li>
 * </ul>
 * The writer still checks the table's side at the run's turn: only a failure (a
 * reconcile changes the table outside the queue's order, and counts as a barrier) can break it,
 * and then the run is applied event by event. A joined caller gets {@code r} itself as its
 * future: callers of one run share it (a report's future only ever completes with null), and it
 * completes with {@code r}'s batch, after the run is applied. Each event's inbox wait is
 * measured from its own enqueue to the writer's turn on the run. A pod's first report after an
 * operation that may change the table, and a new pod's first reports, are never joined; the
 * second may be once the first has its verdict. Each pod's last report stays referenced by its
 * names (with its event) until the pod's next report: that is the chain's memory. The names kept per address and id are bounded by {@link PodNames#MAX}, and a
 * closed report forgets its predecessor and anchor, so no chain of reports is kept alive.
 *
 * <p><b>Failure recovery.</b> An exception while applying an operation is caught, counted,
 * and logged with the operation; the operation's future fails with it, and the mailbox stops
 * taking operations (they wait in the inbox, the rest of the batch ahead of them) for the backoff {@link WriterRecovery} sets. The
 * next {@link #tick} after the backoff reschedules the mailbox; its next batch first
 * reconciles the writer from its last discovery snapshot and its pods' own reports
 * (re-evaluating waiting requests), then resumes. If the revision has been failing for longer
 * than its recovery timeout, {@code tick} rejects its waiting requests with
 * {@link Rejection#REVISION_UNAVAILABLE} rather than leave them hanging.
 */
final class RevisionMailbox implements Inbox {

    static final int BATCH = 1024;
    /** The most operations a caller applies in one go (see "Reports applied by their caller"). */
    static final int CALLER_BATCH = 64;
    private static final System.Logger LOG = System.getLogger(RevisionMailbox.class.getName());

    private final RevisionId id;
    private final RevisionSettings settings;
    private final RevisionWriter writer;
    private final WriterRecovery recovery;
    private final MpscFutureQueue<MailboxTask> inbox = new MpscFutureQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final WriterPool pool;
    private final PodNames names = new PodNames();
    private final int worker;
    private final WriterFailures failures;
    private final NanoClock clock;
    private final ControlMetrics metrics;
    private final Runnable batch = this::runBatch;
    private final boolean byCaller;
    /**
     * Non-report operations (barriers to joining) whose posting has started, and ended: bumped
     * before and after the offer (through {@link #STARTED} and {@link #ENDED}; see "Joining").
     */
    @SuppressWarnings("unused")
    private volatile long barriersStarted;
    @SuppressWarnings("unused")
    private volatile long barriersEnded;
    /**
     * The same for the barriers that may change the table (all but {@link Operation#FLUSH}): a
     * report's verdict still speaks for the next report of its pod across a flush.
     */
    @SuppressWarnings("unused")
    private volatile long changesStarted;
    @SuppressWarnings("unused")
    private volatile long changesEnded;
    /**
     * Written by the worker after each batch: the writer had nothing for a sweep to do (no
     * pods, no checks). {@link #tick} then posts no sweep unless requests wait, so thousands of
     * revisions scaled to zero cost the worker nothing per tick (and make no metrics).
     */
    private volatile boolean quiet;
    /** Operations of a failed batch not yet applied, ahead of the inbox (worker only; null when none). */
    private ArrayDeque<MailboxTask> heldBack;

    private static final VarHandle STARTED;
    private static final VarHandle ENDED;
    private static final VarHandle CHANGES_STARTED;
    private static final VarHandle CHANGES_ENDED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STARTED = lookup.findVarHandle(RevisionMailbox.class, "barriersStarted", long.class);
            ENDED = lookup.findVarHandle(RevisionMailbox.class, "barriersEnded", long.class);
            CHANGES_STARTED = lookup.findVarHandle(RevisionMailbox.class, "changesStarted", long.class);
            CHANGES_ENDED = lookup.findVarHandle(RevisionMailbox.class, "changesEnded", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A mailbox whose reports are always applied by its worker. */
    RevisionMailbox(RevisionId id, RevisionSettings settings, WriterPool pool, WriterFailures failures,
            NanoClock clock, ReadinessCheck readiness, ControlMetrics metrics) {
        this(id, settings, pool, failures, clock, readiness, metrics, false);
    }

    /**
     * @param byCaller whether a report that finds the mailbox idle is applied by its caller
     *                 (see "Reports applied by their caller")
     */
    RevisionMailbox(RevisionId id, RevisionSettings settings, WriterPool pool, WriterFailures failures,
            NanoClock clock, ReadinessCheck readiness, ControlMetrics metrics, boolean byCaller) {
        this.id = id;
        this.byCaller = byCaller;
        this.settings = settings;
        this.pool = pool;
        this.worker = pool.assign();
        this.failures = failures;
        this.clock = clock;
        this.metrics = metrics;
        this.recovery = new WriterRecovery(id, settings.recoveryTimeout(), metrics);
        // The writer keeps this inbox to post to later; nothing is posted before the mailbox
        // is published (a drain notice needs a request, a check result needs an operation).
        this.writer = new RevisionWriter(id, settings, this, clock, readiness, metrics);
    }

    /** The revision's data-path entry point. */
    RevisionThrottler throttler() {
        return writer.throttler;
    }

    /** The writer's last published view of its readiness checks (a volatile read). */
    List<PodCheck> checks() {
        return writer.checks();
    }

    /** Queues an operation; the future completes (with null) once the writer applied it. */
    CompletableFuture<Object> submit(Operation operation, Consumer<RevisionWriter> body) {
        return enqueueBarrier(new MailboxTask.Action(operation, body, clock.nanoTime()));
    }

    /**
     * Queues a pod event; the future completes (with null) once the writer applied it (or a
     * later one of the same pod). The event may join the pod's report still waiting in the
     * inbox (see "Joining"): its caller then gets that report's future, which it shares with
     * the callers of the rest of the run and which completes when the writer has applied the
     * run, with its batch.
     */
    CompletableFuture<Object> report(PodEvent event) {
        long now = clock.nanoTime();
        markBusy();
        MailboxReport report;
        synchronized (names) {
            PodNames.Name address = names.canonical(event.address());
            PodNames.Name podId = names.canonical(event.podId());
            Object pending = address.pending;
            if (pending != null && pending == podId.pending && event.source() == EventSource.POD) {
                MailboxReport joined = (MailboxReport) pending;
                if (mayJoin(joined) && joined.tryJoin(event, now)) {
                    joined.lastState = event.state();
                    return joined;
                }
            }
            long started = (long) STARTED.getVolatile(this);
            long ended = (long) ENDED.getVolatile(this);
            long changes = (long) CHANGES_STARTED.getVolatile(this);
            long changed = (long) CHANGES_ENDED.getVolatile(this);
            report = new MailboxReport(event, address.value, podId.value, now);
            inbox.offer(report);
            if (started == ended && (long) STARTED.getVolatile(this) == started) {
                report.barriers = started; // no barrier under way from before its offer to after it
            }
            if (changes == changed && (long) CHANGES_STARTED.getVolatile(this) == changes) {
                report.changes = changes;
                if (pending != null && pending == podId.pending && report.source == EventSource.POD
                        && ((MailboxReport) pending).changes == changes) {
                    // Nothing between them named this address or id, or changed the table otherwise.
                    follow(report, (MailboxReport) pending);
                }
            }
            close(pending);
            close(podId.pending);
            address.pending = report;
            podId.pending = report;
        }
        if (byCaller) {
            applyHereOrSchedule();
        } else {
            schedule();
        }
        return report;
    }

    /**
     * {@code report} is the next of {@code p}'s pod with nothing between them: the table's side
     * holds before {@code report} if it held after {@code p}, which is {@code p}'s verdict once
     * the writer gives it, or known sooner if it held before {@code p} and {@code p}'s run
     * moves the pod at most between READY and NOT_READY (then the pod is still tracked there
     * under this id alone, not retired, no retry scheduled). Under the producers' lock.
     */
    private static void follow(MailboxReport report, MailboxReport p) {
        byte verdict = p.verdict;
        boolean runMayBeSuperseded = RevisionWriter.mayBeSuperseded(p.lastState);
        if (verdict != MailboxReport.UNDECIDED) {
            report.joinable = verdict;
        } else if (p.joinable == MailboxReport.ALLOWS && runMayBeSuperseded) {
            report.joinable = MailboxReport.ALLOWS;
        } else {
            report.joinable = MailboxReport.UNDECIDED;
            report.predecessor = p;
            if (p.joinable == MailboxReport.UNDECIDED && runMayBeSuperseded) {
                report.anchor = p.anchor != null ? p.anchor : p.predecessor;
            }
        }
    }

    /** {@code pending} (a report, or null) is no longer the last to name its address or id: no join from now on. */
    private static void close(Object pending) {
        if (pending != null) {
            MailboxReport r = (MailboxReport) pending;
            r.predecessor = null; // no chain of reports kept alive (what follows it has copied what it needs)
            r.anchor = null;
        }
    }

    /**
     * Whether {@code r}, the last report that named an event's address and id, may take it in
     * its run: see "Joining". Under the producers' lock.
     */
    private boolean mayJoin(MailboxReport r) {
        if (r.joinable == MailboxReport.UNDECIDED) {
            byte verdict = r.predecessor.verdict;
            if (verdict != MailboxReport.UNDECIDED) {
                r.joinable = verdict;
            } else if (r.anchor != null && r.anchor.verdict == MailboxReport.ALLOWS) {
                r.joinable = MailboxReport.ALLOWS;
            } else {
                return false;
            }
            r.predecessor = null;
            r.anchor = null;
        }
        return r.joinable == MailboxReport.ALLOWS && RevisionWriter.mayBeSuperseded(r.lastState)
                && (long) STARTED.getVolatile(this) == r.barriers;
    }

    /**
     * {@link #report}, typed for the facade: a report's future only ever completes with null, so
     * it is handed out as it is (a dependent future per event was a second completion for the
     * writer in a burst).
     */
    @SuppressWarnings("unchecked")
    CompletableFuture<Void> reportAndForget(PodEvent event) {
        return (CompletableFuture<Void>) (CompletableFuture<?>) report(event);
    }

    /** Queues an operation; the future completes with its result once the writer applied it. */
    CompletableFuture<Object> query(Operation operation, Function<RevisionWriter, ?> body) {
        return enqueueBarrier(new MailboxTask.Query(operation, body, clock.nanoTime()));
    }

    @Override
    public void post(Operation operation, Consumer<RevisionWriter> body) {
        submit(operation, body);
    }

    /** Queues an operation other than a report: no report posted before it may be joined after it. */
    private CompletableFuture<Object> enqueueBarrier(MailboxTask task) {
        markBusy();
        boolean changes = task.operation != Operation.FLUSH;
        if (changes) {
            CHANGES_STARTED.getAndAdd(this, 1L);
        }
        STARTED.getAndAdd(this, 1L);
        inbox.offer(task);
        ENDED.getAndAdd(this, 1L);
        if (changes) {
            CHANGES_ENDED.getAndAdd(this, 1L);
        }
        schedule();
        return task;
    }

    /** The writer's own barrier: the table changed outside an operation (a failure, a reconcile). */
    private void barrier() {
        CHANGES_STARTED.getAndAdd(this, 1L);
        STARTED.getAndAdd(this, 1L);
        ENDED.getAndAdd(this, 1L);
        CHANGES_ENDED.getAndAdd(this, 1L);
    }

    private void markBusy() {
        if (quiet) {
            quiet = false; // until its batch says otherwise: a caller that heard back may tick at once
        }
    }

    /**
     * The revision's share of {@link StateManager#tick()}: rejects its waiters if it has been
     * failing too long, then queues a sweep (which also wakes a mailbox whose backoff ended),
     * unless the revision is quiet: no pods, no checks, no waiters, no failure.
     */
    void tick(long now) {
        RevisionThrottler throttler = writer.throttler;
        if (recovery.recoveryOverdue(now) && throttler.queued() > 0) {
            int n = throttler.rejectWaiting(Rejection.REVISION_UNAVAILABLE);
            LOG.log(System.Logger.Level.WARNING, "{0}: writer has not recovered within {1}; rejected {2} waiting requests",
                    id, settings.recoveryTimeout(), n);
        }
        // A request that queues after this read is swept on the next tick; an event that arrives
        // meanwhile is applied by its own batch, which recomputes quiet.
        if (quiet && throttler.queued() == 0 && !recovery.needsRecovery()) {
            return;
        }
        post(Operation.SWEEP, RevisionWriter::sweep);
    }

    /** No batch scheduled or running (a hint; for tests that need the writer idle). */
    boolean idle() {
        return !scheduled.get();
    }

    int consecutiveFailures() {
        return recovery.consecutiveFailures();
    }

    private void schedule() {
        // Read first: in a burst the flag is set, and a failed CAS would still take the line
        // from the worker. Safe: see "Single writer" in the implementation notes.
        if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
            pool.schedule(worker, batch);
        }
    }

    /**
     * A report's {@link #schedule}: if the mailbox is idle, its caller applies the reports at
     * the inbox's head itself (its own among them), up to {@link #CALLER_BATCH}, and hands
     * what is left to the worker. A mailbox that is failing, or holds back operations of a
     * failed batch, goes to the worker as before.
     */
    private void applyHereOrSchedule() {
        if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
            if (recovery.needsRecovery() || heldBack != null && !heldBack.isEmpty()) {
                pool.schedule(worker, batch);
                return;
            }
            runBatch(true);
        }
    }

    private void runBatch() {
        runBatch(false);
    }

    private void runBatch(boolean byThisCaller) {
        try {
            applyBatch(byThisCaller);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, Thread.currentThread().getName() + " failed outside an operation", e);
            scheduled.set(false);
        }
    }

    /**
     * Skips {@code t} for {@code later} where the writer agrees. A skipped report hears back with
     * the batch (the later report of the same pod says everything it would); a skipped snapshot
     * as said below.
     */
    private boolean skip(MailboxTask t, MailboxTask later) {
        if (t instanceof MailboxReport r) {
            MailboxReport next = (MailboxReport) later;
            // The table's side was checked for this pod's previous report of the chain, and
            // holds still: only the reports' own side is left to check.
            boolean skipped = r.allMayBeSuperseded
                    && (r.tableAllowsSkip || writer.isSupersededBy(r.event, next.event));
            next.tableAllowsSkip = skipped;
            if (skipped) {
                r.verdict = MailboxReport.ALLOWS; // the table's side held, and a skip changes nothing
                r.release();
            }
            return skipped;
        }
        // A discovery snapshot followed at once by a newer one: the newer is the view; the older
        // one's caller hears the newer one's summary.
        later.whenComplete((result, err) -> {
            if (err != null) {
                t.completeExceptionally(err);
            } else {
                t.complete(result);
            }
        });
        return true;
    }

    /**
     * Applies a report and its run, then gives its verdict (see "Joining"). The run is the pod's
     * own later reports, each but the last moving it at most between READY and NOT_READY; if the
     * table's side of {@link RevisionWriter#isSupersededBy} holds, which the joining rules make
     * sure of, the last alone gives the table all of them give, and only it is applied.
     * Otherwise (only after a failure and reconcile changed the table under a waiting run) each
     * is applied in order.
     */
    private Object applyReport(MailboxReport r) {
        int k = r.joinedCount;
        if (k == 0) {
            writer.mutatePod(r.event);
        } else if (r.allButLastMayBeSuperseded && writer.tableAllowsSkip(r.podId, r.address)) {
            writer.mutatePod(r.last());
        } else {
            writer.mutatePod(r.event);
            for (int i = 0; i < k; i++) {
                writer.mutatePod(r.joined(i));
            }
        }
        r.release();
        r.verdict = writer.tableAllowsSkip(r.podId, r.address) ? MailboxReport.ALLOWS : MailboxReport.FORBIDS;
        return null;
    }

    /** After a failure, the batch's unapplied operations wait for recovery ahead of the inbox, in order. */
    private void holdBack(MailboxTask[] taken, int from, int n) {
        for (int i = n - 1; i >= from; i--) {
            if (heldBack == null) {
                heldBack = new ArrayDeque<>();
            }
            heldBack.addFirst(taken[i]);
            taken[i] = null;
        }
    }

    /**
     * Runs a batch of the inbox: on the worker, or on a reporting caller ({@code byThisCaller}:
     * reports only, at most {@link #CALLER_BATCH}; it stops before any other operation).
     */
    private void applyBatch(boolean byThisCaller) {
        long now = clock.nanoTime();
        boolean progressed = true;
        if (recovery.needsRecovery()) {
            if (recovery.isBackingOff(now)) {
                progressed = false;
            } else {
                try {
                    barrier(); // the table changes outside the queue's order
                    failures.beforeOperation(Operation.RECONCILE);
                    writer.reconcile();
                    recovery.recovered();
                    LOG.log(System.Logger.Level.INFO, "{0}: writer recovered and reconciled", id);
                } catch (RuntimeException e) {
                    failures.counted();
                    recovery.failed(Operation.RECONCILE, e, now);
                    progressed = false;
                }
            }
        }
        if (progressed) {
            BatchScratch s = BatchScratch.forThisThread();
            MailboxTask[] taken = s.taken;
            int n = 0;
            int limit = byThisCaller ? CALLER_BATCH : BATCH;
            for (; n < limit; n++) {
                if (byThisCaller && !(inbox.peek() instanceof MailboxReport)) {
                    break; // anything else (a snapshot, a sweep, a query) is the worker's to run
                }
                MailboxTask t = heldBack != null && !heldBack.isEmpty() ? heldBack.poll() : inbox.poll();
                if (t == null) {
                    break;
                }
                if (t instanceof MailboxReport r && !r.isTaken()) {
                    r.takeRun(); // closed to joins before it is marked (a held-back one already was)
                }
                taken[n] = t;
            }
            s.markSuperseded(n);
            boolean[] superseded = s.superseded;
            int[] laterOf = s.laterOf;
            MailboxTask[] done = s.done;
            Object[] results = s.results;
            int finished = 0;
            MailboxTask failedTask = null;
            RuntimeException failure = null;
            for (int i = 0; i < n; i++) {
                MailboxTask t = taken[i];
                long start = clock.nanoTime();
                metrics.inboxWait(id, start - t.enqueuedNanos);
                if (t instanceof MailboxReport r) {
                    for (int j = 0; j < r.joinedCount; j++) {
                        metrics.inboxWait(id, start - r.stamp(j)); // each event's own wait, not one per report
                    }
                }
                if (superseded[i] && skip(t, taken[laterOf[i]])) {
                    if (t instanceof MailboxReport) {
                        done[finished] = t;
                        results[finished++] = null;
                    }
                    continue;
                }
                try {
                    if (!(t instanceof MailboxReport)) {
                        writer.settleCapacity(); // a run of reports ends: capacity as one by one
                    }
                    failures.beforeOperation(t.operation);
                    Object result = t instanceof MailboxReport r ? applyReport(r) : t.apply(writer);
                    metrics.processed(id, t.operation.label(), clock.nanoTime() - start);
                    done[finished] = t;
                    results[finished++] = result;
                } catch (RuntimeException e) {
                    barrier(); // what the failed operation left is not what the queue's order says
                    if (t instanceof MailboxReport r) {
                        r.verdict = MailboxReport.FORBIDS;
                    }
                    failures.counted();
                    recovery.failed(t.operation, e, clock.nanoTime());
                    failedTask = t; // it hears back after the ones before it
                    failure = e;
                    holdBack(taken, i + 1, n);
                    break;
                }
            }
            Arrays.fill(taken, 0, n, null);
            try {
                writer.settleCapacity();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, id + ": updating capacity at the end of a batch failed", e);
            }
            // Once per batch, not per operation: the views (rate-limited for large revisions) and
            // quiet, then the callers hear back, so each sees its own change.
            try {
                writer.publishChecks();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, id + ": publishing the readiness checks failed", e);
            }
            quiet = !writer.needsSweep();
            for (int i = 0; i < finished; i++) {
                MailboxTask t = done[i];
                Object result = results[i];
                done[i] = null;
                results[i] = null;
                t.complete(result);
            }
            if (failedTask != null) {
                failedTask.completeExceptionally(failure);
            }
            try {
                writer.updateMetrics();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, id + ": metrics update failed", e);
            }
        }
        scheduled.set(false);
        // Re-check: an operation added after our last poll found the flag still set and did
        // not schedule. A mailbox backing off is left for tick() to wake.
        boolean more = !inbox.isEmpty() || heldBack != null && !heldBack.isEmpty();
        if (more && !recovery.isBackingOff(clock.nanoTime())) {
            schedule();
        }
    }
}
