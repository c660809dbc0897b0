package dev.sluice.core.throttle;

/**
 * A read-only reading of one revision's demand, for autoscalers: what the throttler holds now
 * and how many requests it has admitted so far. Each figure is read once, without a lock, so
 * the four are not one atomic snapshot; each is exact on its own.
 *
 * @param queued               requests waiting for a pod
 * @param inFlight             requests holding a pod (being served)
 * @param routablePods         pods that take new requests
 * @param containerConcurrency requests one pod may serve at once; 0 = unlimited
 * @param admitted             requests that ever asked the throttler for a pod (monotonic): a
 *                             reader that samples now and then sees traffic that came and went
 *                             between two readings
 */
public record Demand(int queued, int inFlight, int routablePods, int containerConcurrency, long admitted) {

    /** Requests queued or in flight: the concurrency a revision is asked for. */
    public int total() {
        long t = (long) queued + inFlight;
        return t > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) t;
    }
}
