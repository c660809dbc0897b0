package dev.sluice.core.throttle;

import dev.sluice.core.NanoClock;
import dev.sluice.core.balance.LoadBalancingPolicy;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * Admission for one revision: the {@link RevisionBreaker} (capacity = cc × routable pods, a
 * bounded queue ordered by priority class, then fairly between tenants, then FIFO) in front of a {@link LoadBalancingPolicy} over the revision's
 * {@link PodTable}.
 *
 * <h2>Implementation notes</h2>
 * A request first takes a revision token, then a pod slot chosen by the policy; the two are
 * taken together (a waiter is handed both or neither, see {@link RevisionBreaker}). Release
 * goes the other way: the pod slot first, then the token, so the waiter that receives the
 * token finds the slot that was just freed. On the uncontended path — a token and a pod slot
 * free — acquire and release are a handful of CASes and allocate nothing: the lease is the
 * {@link PodTracker} itself and the outcome is delivered to a listener the caller already has.
 *
 * <p>Request threads call {@link #acquire}, {@link #tryAcquire} and {@link #release}; the
 * revision's single writer calls {@link #updateCapacity()} after every change to the table
 * (trackers are published before capacity is raised, and capacity is lowered before trackers
 * are removed, so capacity never runs ahead of the pods that back it) and
 * {@link #setContainerConcurrency(int)}.
 *
 * <p><b>Scale from zero.</b> The writer keeps {@link #routablePods()} current in
 * {@link #updateCapacity()} and tells the {@link ZeroPodListener} when it goes from none to
 * some, before it dispatches the waiters. A request that ends up queued reads that count once
 * (one volatile read, on the queued path only) and, at zero, tells the listener on its own
 * thread: an autoscaler hears of it without polling. {@link #demand()} counts admissions in a
 * {@link LongAdder} (striped: no contended CAS on the request path, nothing allocated once its
 * cells exist) so a sampling reader sees traffic that came and went between two readings.
 */
public final class RevisionThrottler {

    private static final System.Logger LOG = System.getLogger(RevisionThrottler.class.getName());

    private final PodTable table;
    private final LoadBalancingPolicy policy;
    private final RevisionBreaker breaker;
    private volatile int containerConcurrency;
    private volatile int routablePods;
    private volatile ZeroPodListener zeroPodListener = ZeroPodListener.NONE;
    private final LongAdder admitted = new LongAdder();

    /**
     * @param containerConcurrency requests one pod may serve at once; 0 = unlimited
     * @param queueDepth           requests that may wait for capacity (e.g. 10,000)
     */
    public RevisionThrottler(PodTable table, LoadBalancingPolicy policy, int containerConcurrency,
            int queueDepth, NanoClock clock) {
        this.table = Objects.requireNonNull(table, "table");
        this.policy = Objects.requireNonNull(policy, "policy");
        if (containerConcurrency < 0) {
            throw new IllegalArgumentException("containerConcurrency must be >= 0, was " + containerConcurrency);
        }
        this.containerConcurrency = containerConcurrency;
        this.breaker = new RevisionBreaker(this::selectPod, queueDepth, clock);
    }

    private PodTracker selectPod() {
        return policy.select(table);
    }

    /**
     * The revision's capacity for a containerConcurrency and a number of routable pods:
     * {@code cc × pods}, saturating at {@link Integer#MAX_VALUE}; for cc = 0 (unlimited), open
     * ({@code MAX_VALUE}) when at least one pod is routable, closed (0) otherwise.
     */
    public static int capacityFor(int containerConcurrency, int routablePods) {
        if (routablePods <= 0) {
            return 0;
        }
        if (containerConcurrency == 0) {
            return Integer.MAX_VALUE;
        }
        long c = (long) containerConcurrency * routablePods;
        return c >= Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) c;
    }

    /**
     * Asks for a pod. The outcome goes to {@code listener}, at once if it is known (then
     * {@link Pending#NONE} is returned), else when capacity frees or the wait expires.
     *
     * @param deadlineNanos the clock reading after which a waiting request is rejected with
     *                      {@link Rejection#QUEUE_TIMEOUT}
     */
    public Pending acquire(long deadlineNanos, LeaseListener listener) {
        return acquire(deadlineNanos, listener, 0, null);
    }

    /**
     * As {@link #acquire(long, LeaseListener)}, for a request of priority class
     * {@code priorityClass} (0 is served first) and tenant {@code tenant} (null: the shared
     * tenant). Class and tenant decide only the order of waiters; they cost nothing when a pod
     * is free at once.
     */
    public Pending acquire(long deadlineNanos, LeaseListener listener, int priorityClass, String tenant) {
        admitted.increment();
        Pending p = breaker.acquire(deadlineNanos, listener, priorityClass, tenant);
        if (p != Pending.NONE && routablePods == 0) {
            try {
                zeroPodListener.queuedWithNoPod();
            } catch (RuntimeException e) {
                // The request is queued whatever a listener does: it must not be lost to one.
                LOG.log(System.Logger.Level.ERROR, "zero-pod listener failed", e);
            }
        }
        return p;
    }

    /** Who hears of requests queued at zero pods and of the first pod after none. */
    public void listen(ZeroPodListener listener) {
        this.zeroPodListener = Objects.requireNonNull(listener, "listener");
    }

    /** Pods taking new requests, as of the writer's last {@link #updateCapacity()}. */
    public int routablePods() {
        return routablePods;
    }

    /** The revision's demand now: queued, in flight, routable pods, cc, admitted so far. */
    public Demand demand() {
        return new Demand(breaker.queued(), breaker.active(), routablePods, containerConcurrency, admitted.sum());
    }

    /**
     * A pod at once, or null if no token or pod slot is free right now; never queues. For
     * callers that handle waiting themselves, and for benchmarks.
     */
    public PodTracker tryAcquire() {
        if (!breaker.tryAcquireToken()) {
            return null;
        }
        PodTracker pod = policy.select(table);
        if (pod == null) {
            breaker.release();
        }
        return pod;
    }

    /** Ends a lease: the pod's slot, then the revision token (which may go to the next waiter). */
    public void release(PodTracker pod) {
        pod.release();
        breaker.release();
    }

    /**
     * Holds one slot of {@code pod} for a request this throttler does not serve (another
     * Sluice replica's, still running on the pod while ownership of the revision moves): the
     * pod's count rises, no revision token is taken, so a waiter that gets a token finds the
     * pod full and waits, exactly as if the request were its own. Succeeds while the pod is
     * below its capacity and not leaving, routable yet or not ({@link PodTracker#tryHold}): a
     * pod this replica has not yet seen ready may already run the other replica's requests, and
     * held before it turns routable here, it is full from the moment it does, before any waiter
     * can take it. {@link #releaseSlot} must follow exactly once.
     */
    public boolean reserveSlot(PodTracker pod) {
        return pod.tryHold();
    }

    /** Gives back a slot held by {@link #reserveSlot} and serves the waiter it may free. */
    public void releaseSlot(PodTracker pod) {
        pod.release();
        breaker.dispatch();
    }

    /**
     * Recomputes capacity from the table and serves waiters. Writer only.
     *
     * <p>Capacity is {@link #capacityFor cc × routable pods} plus the requests still running on
     * pods that left rotation: those requests hold revision tokens but no routable pod's slot,
     * and without this they would keep routable pods idle while requests wait (the upstream
     * activator's idle-pod problem). Over-counting is harmless — a token whose holder finds no
     * free pod slot waits, since the tracker's CAS is the real limit — and the count is
     * refreshed when a draining pod's last request ends.
     */
    public void updateCapacity() {
        int cc = containerConcurrency;
        int routable = table.routableCount(); // kept by the table as it changes: O(1), not a pass
        long total = (long) capacityFor(cc, routable) + (cc == 0 ? 0 : table.inFlightOutOfRotation());
        int before = routablePods;
        routablePods = routable;
        if (before == 0 && routable > 0) {
            try {
                zeroPodListener.podsRoutable();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "zero-pod listener failed", e);
            }
        }
        breaker.setCapacity((int) Math.min(Integer.MAX_VALUE, total));
    }

    /** Changes containerConcurrency for every pod and the revision. Writer only. */
    public void setContainerConcurrency(int cc) {
        if (cc < 0) {
            throw new IllegalArgumentException("containerConcurrency must be >= 0, was " + cc);
        }
        containerConcurrency = cc;
        table.setCapacity(cc);
        updateCapacity();
    }

    /** Rejects waiters whose deadline passed; returns how many. */
    public int expireOverdue() {
        return breaker.expireOverdue();
    }

    /**
     * Rejects every waiting and every later request with {@code reason}. Leases already given
     * stay valid until released.
     */
    public void close(Rejection reason) {
        breaker.close(reason);
    }

    /** Rejects every waiting request with {@code reason}; later requests are admitted as usual. */
    public int rejectWaiting(Rejection reason) {
        return breaker.rejectWaiting(reason);
    }

    public boolean isClosed() {
        return breaker.isClosed();
    }

    public int containerConcurrency() {
        return containerConcurrency;
    }

    /** Requests waiting for a pod. */
    public int queued() {
        return breaker.queued();
    }

    /** Requests of priority class {@code c} waiting for a pod (takes the queue's lock). */
    public int queuedIn(int c) {
        return breaker.queuedIn(c);
    }

    /** Tenant weights, per-tenant cap and preemption for waiters from now on (a reload). */
    public void setQueuePolicy(QueuePolicy policy) {
        breaker.setQueuePolicy(policy);
    }

    public QueuePolicy queuePolicy() {
        return breaker.queuePolicy();
    }

    /** Requests holding a revision token (being served). */
    public int active() {
        return breaker.active();
    }

    public int capacity() {
        return breaker.capacity();
    }

    public PodTable table() {
        return table;
    }

    public LoadBalancingPolicy policy() {
        return policy;
    }
}
