package dev.sluice.core.throttle;

import dev.sluice.core.pod.PodTracker;

/**
 * Receives the outcome of {@link RevisionThrottler#acquire}: exactly one of the two methods is
 * called, exactly once — on the acquiring thread if the outcome is known at once, else on
 * whichever thread frees capacity or expires the wait. Implementations must be quick and must
 * not block (hand the work to an event loop); they should not throw. The server's per-request
 * object implements this, so the uncontended path allocates nothing.
 */
public interface LeaseListener {

    /**
     * A slot on {@code pod} is reserved for this request. The receiver owns the lease and must
     * call {@link RevisionThrottler#release(PodTracker)} exactly once, also if the client has
     * gone away meanwhile.
     */
    void onLease(PodTracker pod);

    /** The request gets no pod; answer the client with the reason. */
    void onReject(Rejection reason);
}
