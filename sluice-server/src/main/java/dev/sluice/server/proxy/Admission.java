package dev.sluice.server.proxy;

import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Pending;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.server.config.RevisionConfig;
import dev.sluice.server.metrics.Outcome;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The first part of an {@link Exchange}: asking the revision's throttler for a pod, the queue
 * timeout, and holding the pod's lease until it is released, exactly once. What comes of it
 * goes one way, to the exchange: {@link #admitted} with a pod, or {@link #refuse} with the
 * answer to give.
 *
 * <h2>Implementation notes</h2>
 * A base class rather than an object of its own: the exchange is the only object a request
 * makes, and this half of it adds none. Everything runs on the client connection's event loop;
 * the throttler may deliver the lease or the rejection on another thread, and
 * {@link #onLease}/{@link #onReject} hop back to the loop before touching any field.
 * {@link #done} is the exchange's single "answered" flag: once set, a lease that still arrives
 * is released at once, so no slot or token leaks whichever of client cancel, timeout or lease
 * comes first. The lease is released in {@link #releasePod()}, which clears {@link #pod}, so
 * it runs once.
 *
 * <p><b>Class and tenant.</b> For a revision with a {@code queueing} section the request's
 * priority class and tenant are found once, when the exchange is made
 * ({@link RequestClassifier}), and go with every {@code acquire}; the class's own queue timeout,
 * if it has one, replaces the revision's. The per-class metrics count a request as queued from
 * the {@code acquire} that left it waiting until the first of lease, rejection, expiry or
 * cancel ({@link #leftQueue}); all of these run on the loop, so the count needs no atomics.
 */
abstract class Admission implements LeaseListener, Deadlines.Expiring {

    /** The queue timer's kind (the exchange's own timers take other kinds). */
    static final int QUEUE = 1;

    final ChannelHandlerContext ctx;
    final ProxyContext px;
    final Route route;
    /**
     * The proxy address of the replica that owns the revision, when this request is forwarded
     * there instead of asking this replica's throttler; null for a request served here.
     */
    String owner;
    Deadlines deadlines;
    /** Set once the exchange has answered (by the exchange, in its end). */
    boolean done;
    /** The leased pod, until released. */
    PodTracker pod;
    /**
     * The queue clock's end: its start (the request ready to queue, its body buffered if it
     * was) plus {@link #queueLengthNanos}. The start is not kept.
     */
    private long queueDeadlineNanos;
    /** The queue timeout, or the request's own shorter limit ({@code grpc-timeout}). */
    private long queueLengthNanos;
    private Pending pending = Pending.NONE;
    private Deadlines.Deadline queueTimer;
    /** The request's priority class (an index into the revision's classes) and tenant (null: shared). */
    private final int priorityClass;
    private final String tenant;
    /** Whether the queue metrics count this request as waiting now. */
    private boolean countedQueued;
    /** The tenant's metric label, once the request waited or was refused (classified revisions only). */
    private String tenantLabel;

    Admission(ChannelHandlerContext ctx, ProxyContext px, Route route, String owner, int priorityClass,
            String tenant) {
        this.ctx = ctx;
        this.px = px;
        this.route = route;
        this.owner = owner;
        this.priorityClass = priorityClass;
        this.tenant = tenant;
    }

    final RevisionConfig config() {
        return route.config();
    }

    /** A pod was leased for the request; {@link #pod} holds it. */
    abstract void admitted(PodTracker leased);

    /** The request is refused before it reached a pod: answer {@code status} and end. */
    abstract void refuse(HttpResponseStatus status, Outcome outcome, String why);

    /** The request goes to the revision's owner: no lease here, the owner's throttler decides. */
    abstract void toOwner();

    /**
     * The request can go (or it goes to its owner): its queue clock starts at {@code now}, and
     * runs for the queue timeout or {@code limitNanos}, whichever is shorter.
     */
    final void ready(long now, long limitNanos) {
        if (owner != null) {
            route.owner().forwardingAtZeroPods(route.throttler().routablePods());
            toOwner();
            return;
        }
        queueLengthNanos = Math.min(config().queueing().queueTimeout(priorityClass, config().queueTimeout()).toNanos(),
                limitNanos);
        queueDeadlineNanos = now + queueLengthNanos;
        admit();
    }

    /** Asks for a pod (again, after a connect failure: the queue clock keeps its start). */
    final void admit() {
        pending = route.throttler().acquire(queueDeadlineNanos, this, priorityClass, tenant);
        if (pending != Pending.NONE && !countedQueued && !config().queueing().plain()) {
            countedQueued = true;
            route.metrics().queue().queued(className(), tenantLabel(), 1);
        }
        if (!done && pod == null && pending != Pending.NONE && queueTimer == null) {
            // The length the deadline was set with, so it joins the lane of its peers.
            queueTimer = deadlines.add(queueLengthNanos, this, QUEUE);
        }
    }

    @Override
    public final void onLease(PodTracker leased) {
        if (ctx.executor().inEventLoop()) {
            leased(leased);
        } else {
            ctx.executor().execute(() -> leased(leased));
        }
    }

    @Override
    public final void onReject(Rejection reason) {
        if (ctx.executor().inEventLoop()) {
            rejected(reason);
        } else {
            ctx.executor().execute(() -> rejected(reason));
        }
    }

    private void leased(PodTracker leased) {
        if (done) {
            route.throttler().release(leased);
            return;
        }
        pod = leased;
        pending = Pending.NONE;
        Exchange.cancel(queueTimer);
        long waited = px.clock.nanoTime() - (queueDeadlineNanos - queueLengthNanos);
        route.metrics().queued(waited);
        if (!config().queueing().plain()) {
            leftQueue();
            route.metrics().queue().waited(className(), tenantLabel(), waited);
        }
        admitted(leased);
    }

    private String className() {
        return config().queueing().classes().get(Math.min(priorityClass, config().queueing().classes().size() - 1))
                .name();
    }

    private String tenantLabel() {
        String l = tenantLabel;
        if (l == null) {
            l = route.metrics().queue().tenantLabel(tenant);
            tenantLabel = l;
        }
        return l;
    }

    /** The request no longer waits (served, refused, expired or gone): the queued gauge drops once. */
    private void leftQueue() {
        if (countedQueued) {
            countedQueued = false;
            route.metrics().queue().queued(className(), tenantLabel(), -1);
        }
    }

    private void rejected(Rejection reason) {
        if (done) {
            return;
        }
        pending = Pending.NONE;
        if (!config().queueing().plain()) {
            leftQueue();
            route.metrics().queue().rejected(className(), tenantLabel(), Outcome.of(reason));
        }
        HttpResponseStatus st = (reason == Rejection.QUEUE_FULL || reason == Rejection.TENANT_QUEUE_FULL)
                && config().overflowStatus() == 429
                ? HttpResponseStatus.TOO_MANY_REQUESTS : HttpResponseStatus.SERVICE_UNAVAILABLE;
        String why = switch (reason) {
            case QUEUE_FULL -> "the queue of revision " + config().id() + " is full (" + config().queueDepth()
                    + " requests waiting)";
            case TENANT_QUEUE_FULL -> "the queue of revision " + config().id() + " holds as many requests of this"
                    + " tenant as its cap allows";
            case PREEMPTED -> "a request of a higher priority class took this request's place in the full queue"
                    + " of revision " + config().id();
            case QUEUE_TIMEOUT -> RevisionStatus.queueTimeout(px.control, route, queueLengthNanos);
            case REVISION_CLOSED -> "revision " + config().id() + " was removed";
            case REVISION_UNAVAILABLE -> "revision " + config().id() + " is unavailable: its control path failed";
            case SHUTTING_DOWN -> "Sluice is shutting down";
        };
        refuse(st, Outcome.of(reason), why + "\n");
    }

    /** The queue timer fired. */
    final void queueExpired() {
        if (done || pod != null) {
            return;
        }
        if (pending.cancel()) {
            pending = Pending.NONE;
            rejected(Rejection.QUEUE_TIMEOUT);
        }
        // else: the lease or a rejection is already on its way and will answer
    }

    /** The exchange ends: stop waiting for a pod. */
    final void cancelAdmission() {
        leftQueue();
        Exchange.cancel(queueTimer);
        if (pending != Pending.NONE) {
            pending.cancel(); // if it returns false, the lease arriving later is released in leased()
            pending = Pending.NONE;
        }
    }

    /** The leased pod at {@code address} could not be connected to: the control path hears it. */
    final void reportUnreachable(String address) {
        try {
            px.control.reportUnreachable(config().id(), pod.podId(), address);
        } catch (IllegalArgumentException revisionGone) {
            // the revision was closed meanwhile; nothing to report to
        }
    }

    final void releasePod() {
        PodTracker p = pod;
        if (p != null) {
            pod = null;
            route.throttler().release(p);
        }
    }
}
