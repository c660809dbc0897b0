package dev.sluice.core.throttle;

import dev.sluice.core.NanoClock;
import dev.sluice.core.pod.PodTracker;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A revision's admission gate: {@code capacity} tokens (cc × routable pods) and a bounded
 * queue of requests waiting for one ({@link PriorityWaiterQueue}: strict priority between
 * classes, deficit round robin between tenants, FIFO within a tenant; as long as what waits,
 * nothing up front). A waiter is handed a token together with a claimed pod slot, never a
 * token alone, so a token whose pod slot vanished cannot be lost or spun on.
 *
 * <h2>Implementation notes</h2>
 * <b>State.</b> One 64-bit word holds the tokens in use ({@code active}, low 32 bits) and the
 * number of waiters ({@code queued}, high 32 bits). {@code capacity} is a separate volatile
 * int written only by the revision's writer.
 *
 * <p><b>Fast paths, no lock.</b> Acquire takes a token with a CAS only while
 * {@code queued == 0 && active < capacity}: a newcomer never barges past a waiter. Release
 * gives its token back with a CAS only while {@code queued == 0} (or {@code active} exceeds a
 * shrunk capacity, when the token must vanish rather than be handed on). Because both
 * conditions are read from the same word that the enqueue CAS changes, a release and an
 * enqueue cannot miss each other: either the release sees the waiter and takes the slow path,
 * or the enqueuer sees the freed token and takes it instead of waiting.
 *
 * <p><b>Slow paths, under {@link #lock}.</b> Enqueue, hand-off on release, dispatch after
 * capacity grows, expiry, cancellation and close all hold the lock while they change the
 * queue and the word. Under the lock the head waiter is served only if the claimer yields a
 * pod slot; if it yields none (capacity and pods changed between the two steps), the token
 * goes back and the waiter keeps its place ({@link PriorityWaiterQueue#head()} is only a
 * look; {@link PriorityWaiterQueue#take} commits the choice once a pod is claimed). Nothing retries until the next
 * event that can free a slot — a release, or the writer's next capacity update, which always
 * dispatches — so a waiter never spins. A policy's scan is not an atomic snapshot: a pod freed
 * behind the scan can be missed, and the release that freed it may have seen no waiter yet.
 * So a request that parks after a failed claim looks once more after it is visible in the
 * queue, and the periodic expiry sweep also dispatches: no wake-up is lost for good. Listeners are called after the lock is released, from
 * a chain of completed waiters linked through their own fields (no allocation).
 *
 * <p><b>Capacity.</b> Shrinking never pre-empts: tokens in use stay in use, and until
 * {@code active} falls below the new capacity releases retire tokens instead of handing them
 * on. Growing dispatches waiters in the queue's order.
 *
 * <p><b>Classes, tenants, caps, preemption.</b> Which waiter a freed token goes to is the
 * queue's choice; the breaker only asks for its {@link PriorityWaiterQueue#head()}. The
 * {@code queued} half of the word stays the total across classes, so the fast paths and the
 * queue-depth bound read exactly what they read with one FIFO, and a request without a class or
 * tenant (class 0, the shared tenant) under {@link QueuePolicy#FIFO} is served exactly as
 * before. A tenant's cap is checked under the lock, where its count is exact. A preemption
 * happens under the lock too, and leaves the word alone: the victim is unlinked and the
 * newcomer linked in its place with {@code queued} unchanged. (Uncounting the victim first
 * would let {@code queued} read 0 for a moment, and a release's lock-free fast path would
 * retire its token then, leaving the newcomer waiting beside a free pod — the lost wake-up
 * that {@code PriorityQueueStress.PreemptionVsRelease} found.) The victim is answered
 * {@link Rejection#PREEMPTED} after the lock, like every other outcome.
 *
 * <p><b>Rejections allocate nothing:</b> a full queue (without preemption) is detected before
 * the lock, and every rejection under the lock — full, a tenant at its cap, closed — is decided
 * before a waiter is created.
 */
public final class RevisionBreaker {

    /** Supplies a reserved pod slot for a request that holds a token, or null if none is free. */
    @FunctionalInterface
    public interface PodClaimer {
        PodTracker claim();
    }

    private static final System.Logger LOG = System.getLogger(RevisionBreaker.class.getName());
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(RevisionBreaker.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final long ONE_QUEUED = 1L << 32;

    private final PodClaimer claimer;
    private final int queueDepth;
    private final NanoClock clock;
    private final ReentrantLock lock = new ReentrantLock();

    @SuppressWarnings("unused")
    private volatile long state;
    private volatile int capacity;
    private volatile Rejection closedWith;
    /** Read without the lock only to decide whether a full queue needs the slow path. */
    private volatile QueuePolicy policy = QueuePolicy.FIFO;

    /** Guarded by lock; grows and shrinks with the waiters (nothing sized to queueDepth). */
    private final PriorityWaiterQueue queue = new PriorityWaiterQueue(QueuePolicy.FIFO);

    public RevisionBreaker(PodClaimer claimer, int queueDepth, NanoClock clock) {
        this.claimer = Objects.requireNonNull(claimer, "claimer");
        if (queueDepth < 0) {
            throw new IllegalArgumentException("queue depth must be >= 0, was " + queueDepth);
        }
        this.queueDepth = queueDepth;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    private static int active(long s) {
        return (int) s;
    }

    private static int queued(long s) {
        return (int) (s >>> 32);
    }

    /** Tokens in use. */
    public int active() {
        return active(state);
    }

    /** Requests waiting. */
    public int queued() {
        return queued(state);
    }

    public int capacity() {
        return capacity;
    }

    public int queueDepth() {
        return queueDepth;
    }

    /**
     * Admits a request: a token and a pod slot at once if both are free, else a place in the
     * queue, else a rejection. The outcome goes to {@code listener} (see {@link LeaseListener}).
     *
     * @param deadlineNanos the {@link NanoClock} reading after which the request stops waiting
     */
    public Pending acquire(long deadlineNanos, LeaseListener listener) {
        return acquire(deadlineNanos, listener, 0, null);
    }

    /**
     * As {@link #acquire(long, LeaseListener)}, for a request of a priority class and a tenant.
     * They matter only if the request has to wait: the fast path is the same for everyone.
     *
     * @param priorityClass 0 (served first) to {@link QueuePolicy#MAX_CLASSES} − 1
     * @param tenant        the tenant's name, or null for the shared tenant
     */
    public Pending acquire(long deadlineNanos, LeaseListener listener, int priorityClass, String tenant) {
        if (priorityClass < 0 || priorityClass >= QueuePolicy.MAX_CLASSES) {
            throw new IllegalArgumentException("priority class must be in 0.." + (QueuePolicy.MAX_CLASSES - 1)
                    + ", was " + priorityClass);
        }
        Rejection closed = closedWith;
        if (closed != null) {
            listener.onReject(closed);
            return Pending.NONE;
        }
        for (;;) {
            long s = state;
            if (queued(s) != 0 || active(s) >= capacity) {
                break;
            }
            if (STATE.weakCompareAndSet(this, s, s + 1)) {
                PodTracker pod = claimer.claim();
                if (pod != null) {
                    listener.onLease(pod);
                    return Pending.NONE;
                }
                return waitAtHead(new Waiter(this, listener, deadlineNanos, priorityClass, tenant));
            }
        }
        if (queued(state) >= queueDepth && !policy.preemption()) {
            listener.onReject(Rejection.QUEUE_FULL);
            return Pending.NONE;
        }
        return enqueue(deadlineNanos, listener, priorityClass, tenant);
    }

    /** A new queue policy (tenant weights, cap, preemption), from the next request on. */
    public void setQueuePolicy(QueuePolicy p) {
        Objects.requireNonNull(p, "policy");
        lock.lock();
        try {
            queue.setPolicy(p);
            policy = p;
        } finally {
            lock.unlock();
        }
    }

    public QueuePolicy queuePolicy() {
        return policy;
    }

    /** Requests waiting in class {@code c} (taken under the lock: for status pages and metrics). */
    public int queuedIn(int c) {
        lock.lock();
        try {
            return queue.queuedIn(c);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a token without waiting, for callers that pick the pod themselves.
     *
     * @return whether a token was taken; if so, {@link #release()} must follow
     */
    public boolean tryAcquireToken() {
        if (closedWith != null) {
            return false;
        }
        for (;;) {
            long s = state;
            if (queued(s) != 0 || active(s) >= capacity) {
                return false;
            }
            if (STATE.weakCompareAndSet(this, s, s + 1)) {
                return true;
            }
        }
    }

    /** Returns one token; hands it to the head waiter if that waiter can be given a pod. */
    public void release() {
        for (;;) {
            long s = state;
            if (active(s) <= 0) {
                throw new IllegalStateException("revision token released without being held");
            }
            if (queued(s) != 0 && active(s) <= capacity) {
                break;
            }
            if (STATE.weakCompareAndSet(this, s, s - 1)) {
                return;
            }
        }
        Waiter done;
        lock.lock();
        try {
            done = handOffLocked();
        } finally {
            lock.unlock();
        }
        complete(done);
    }

    /**
     * Sets the capacity (writer only) and serves waiters, in order, while tokens and pod slots
     * are free. Called after every change that may have freed a slot, even if the number is
     * unchanged.
     */
    public void setCapacity(int newCapacity) {
        if (newCapacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0, was " + newCapacity);
        }
        capacity = newCapacity;
        dispatch();
    }

    /** Serves waiters while tokens and pod slots are free. */
    public void dispatch() {
        Waiter done = null;
        lock.lock();
        try {
            long now = clock.nanoTime();
            for (;;) {
                Waiter w = queue.head();
                if (w == null || closedWith != null || active(state) >= capacity) {
                    break;
                }
                if (w.deadline - now <= 0) {
                    unlinkLocked(w);
                    done = w.reject(Rejection.QUEUE_TIMEOUT, done);
                    continue;
                }
                PodTracker pod = claimer.claim();
                if (pod == null) {
                    break;
                }
                takeLocked(w);
                addStateLocked(1);
                done = w.grant(pod, done);
            }
        } finally {
            lock.unlock();
        }
        complete(done);
    }

    /**
     * Rejects, with {@link Rejection#QUEUE_TIMEOUT}, every waiter whose deadline has passed,
     * then serves waiters if capacity is free. Run periodically, it is also the safety net that
     * keeps a waiter from being stranded by a missed wake-up.
     *
     * @return how many were rejected
     */
    public int expireOverdue() {
        Waiter done = null;
        int n = 0;
        lock.lock();
        try {
            long now = clock.nanoTime();
            for (long classes = queue.nonEmptyClasses(); classes != 0; classes &= classes - 1) {
                for (Waiter w = queue.oldestIn(Long.numberOfTrailingZeros(classes)); w != null; ) {
                    Waiter next = w.classNext;
                    if (w.deadline - now <= 0) {
                        unlinkLocked(w);
                        done = w.reject(Rejection.QUEUE_TIMEOUT, done);
                        n++;
                    }
                    w = next;
                }
            }
        } finally {
            lock.unlock();
        }
        complete(done);
        dispatch();
        return n;
    }

    /**
     * Closes the gate: every waiter is rejected with {@code reason}, and so is every later
     * acquire. Tokens in use stay valid and are released as usual.
     */
    public void close(Rejection reason) {
        Objects.requireNonNull(reason, "reason");
        Waiter done = null;
        lock.lock();
        try {
            if (closedWith == null) {
                closedWith = reason;
            }
            while (!queue.isEmpty()) {
                Waiter w = queue.head();
                unlinkLocked(w);
                done = w.reject(closedWith, done);
            }
        } finally {
            lock.unlock();
        }
        complete(done);
    }

    /**
     * Rejects every waiter now with {@code reason}, leaving the gate open for later requests
     * (a revision whose control path could not recover in time).
     *
     * @return how many were rejected
     */
    public int rejectWaiting(Rejection reason) {
        Objects.requireNonNull(reason, "reason");
        Waiter done = null;
        int n = 0;
        lock.lock();
        try {
            while (!queue.isEmpty()) {
                Waiter w = queue.head();
                unlinkLocked(w);
                done = w.reject(reason, done);
                n++;
            }
        } finally {
            lock.unlock();
        }
        complete(done);
        return n;
    }

    public boolean isClosed() {
        return closedWith != null;
    }

    // ------------------------------------------------------------------ slow paths

    private Pending enqueue(long deadlineNanos, LeaseListener listener, int priorityClass, String tenant) {
        Waiter w = null;
        Waiter done = null;
        PodTracker leased = null;
        Rejection rejected = null;
        boolean parkedWithoutPod = false;
        lock.lock();
        try {
            if (closedWith != null) {
                rejected = closedWith;
            } else {
                QueuePolicy p = policy;
                for (;;) {
                    long s = state;
                    if (queued(s) == 0 && active(s) < capacity) {
                        if (STATE.compareAndSet(this, s, s + 1)) {
                            leased = claimer.claim();
                            if (leased == null) {
                                w = new Waiter(this, listener, deadlineNanos, priorityClass, tenant);
                                addStateLocked(ONE_QUEUED - 1);
                                linkHeadLocked(w);
                                parkedWithoutPod = true;
                            }
                            break;
                        }
                    } else if (queue.queuedOf(tenant) >= p.tenantCap()) {
                        rejected = Rejection.TENANT_QUEUE_FULL;
                        break;
                    } else if (queued(s) >= queueDepth) {
                        Waiter victim = p.preemption() ? queue.newestBelow(priorityClass) : null;
                        if (victim == null) {
                            rejected = Rejection.QUEUE_FULL;
                            break;
                        }
                        // The newcomer takes the victim's place and the word is not touched: were
                        // queued to dip to 0 in between, a release's fast path could retire its
                        // token then and leave the newcomer waiting by a free pod
                        // (PriorityQueueStress.PreemptionVsRelease found exactly that).
                        queue.remove(victim);
                        done = victim.reject(Rejection.PREEMPTED, null);
                        w = new Waiter(this, listener, deadlineNanos, priorityClass, tenant);
                        linkTailLocked(w);
                        break;
                    } else if (STATE.compareAndSet(this, s, s + ONE_QUEUED)) {
                        // Conditional on the same snapshot that said "no token free": a release
                        // that retired its token since then makes this CAS fail, and the loop
                        // takes the token instead of waiting for a hand-off that will not come.
                        w = new Waiter(this, listener, deadlineNanos, priorityClass, tenant);
                        linkTailLocked(w);
                        break;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        complete(done);
        if (leased != null) {
            deliverLease(listener, leased);
            return Pending.NONE;
        }
        if (rejected != null) {
            listener.onReject(rejected);
            return Pending.NONE;
        }
        if (parkedWithoutPod) {
            dispatch();
        }
        return w;
    }

    /** Holds a token but found no pod: give the token back and wait first in line. */
    private Pending waitAtHead(Waiter w) {
        Waiter done = null;
        lock.lock();
        try {
            if (closedWith != null) {
                addStateLocked(-1);
                done = w.reject(closedWith, null);
            } else {
                addStateLocked(ONE_QUEUED - 1);
                linkHeadLocked(w);
            }
        } finally {
            lock.unlock();
        }
        if (done != null) {
            complete(done);
            return Pending.NONE;
        }
        // A release that freed a pod while our claim was scanning may have seen no waiter and
        // kept its token out of the queue; now that we are visible at the head, look once more.
        dispatch();
        return w;
    }

    /** The caller holds one token: give it to the head waiter if a pod is free, else retire it. */
    private Waiter handOffLocked() {
        Waiter done = null;
        long now = clock.nanoTime();
        for (;;) {
            Waiter w = queue.head();
            if (w == null || closedWith != null || active(state) > capacity) {
                addStateLocked(-1);
                return done;
            }
            if (w.deadline - now <= 0) {
                unlinkLocked(w);
                done = w.reject(Rejection.QUEUE_TIMEOUT, done);
                continue;
            }
            PodTracker pod = claimer.claim();
            if (pod == null) {
                addStateLocked(-1);
                return done;
            }
            takeLocked(w);
            return w.grant(pod, done);
        }
    }

    boolean cancel(Waiter w) {
        lock.lock();
        try {
            if (!w.linked) {
                return false;
            }
            unlinkLocked(w);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Adds to the packed word (active in the low half, queued in the high half) under the lock. */
    private void addStateLocked(long delta) {
        for (;;) {
            long s = state;
            if (STATE.compareAndSet(this, s, s + delta)) {
                return;
            }
        }
    }

    /** Links at the tail; the caller has already counted the waiter in {@link #state}. */
    private void linkTailLocked(Waiter w) {
        queue.addLast(w);
    }

    /** Links at the head; the caller has already counted the waiter in {@link #state}. */
    private void linkHeadLocked(Waiter w) {
        queue.addFirst(w);
    }

    /** Unlinks and uncounts a waiter that leaves without being served. */
    private void unlinkLocked(Waiter w) {
        queue.remove(w);
        addStateLocked(-ONE_QUEUED);
    }

    /** Unlinks and uncounts the queue's head as served (it spends its tenant's turn). */
    private void takeLocked(Waiter w) {
        queue.take(w);
        addStateLocked(-ONE_QUEUED);
    }

    /** Delivers outcomes outside the lock. A listener that throws must not leak its lease. */
    private void complete(Waiter done) {
        while (done != null) {
            Waiter next = done.nextDone;
            done.nextDone = null;
            PodTracker pod = done.pod;
            if (pod != null) {
                deliverLease(done.listener, pod);
            } else {
                try {
                    done.listener.onReject(done.rejection);
                } catch (RuntimeException | Error e) {
                    LOG.log(System.Logger.Level.ERROR, "lease listener failed on a rejection", e);
                }
            }
            done = next;
        }
    }

    private void deliverLease(LeaseListener listener, PodTracker pod) {
        try {
            listener.onLease(pod);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "lease listener failed; releasing its lease", e);
            pod.release();
            release();
        }
    }

    /** A queued request. Fields other than the final ones are guarded by the breaker's lock. */
    static final class Waiter implements Pending {
        final RevisionBreaker owner;
        final LeaseListener listener;
        final long deadline;
        final int cls;
        /** The tenant's name; null for the shared tenant. */
        final String tenant;
        /** In its tenant's lane for its class (FIFO). */
        Waiter prev;
        Waiter next;
        /** In its class, by arrival. */
        Waiter classPrev;
        Waiter classNext;
        PriorityWaiterQueue.Lane lane;
        boolean linked;
        PodTracker pod;
        Rejection rejection;
        Waiter nextDone;

        Waiter(RevisionBreaker owner, LeaseListener listener, long deadline, int cls, String tenant) {
            this.owner = owner;
            this.listener = Objects.requireNonNull(listener, "listener");
            this.deadline = deadline;
            this.cls = cls;
            this.tenant = tenant;
        }

        Waiter grant(PodTracker pod, Waiter chain) {
            this.pod = pod;
            this.nextDone = chain;
            return this;
        }

        Waiter reject(Rejection reason, Waiter chain) {
            this.rejection = reason;
            this.nextDone = chain;
            return this;
        }

        @Override
        public boolean cancel() {
            return owner.cancel(this);
        }
    }
}
