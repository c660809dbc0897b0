package dev.sluice.core.throttle;

import dev.sluice.core.pod.PodTracker;
import java.util.concurrent.atomic.AtomicInteger;

/** Records the one outcome a request gets; fails the test if it gets two. */
final class RecordingListener implements LeaseListener {

    private final AtomicInteger outcomes = new AtomicInteger();
    volatile PodTracker pod;
    volatile Rejection rejection;

    @Override
    public void onLease(PodTracker pod) {
        once();
        this.pod = pod;
    }

    @Override
    public void onReject(Rejection reason) {
        once();
        this.rejection = reason;
    }

    private void once() {
        if (outcomes.incrementAndGet() != 1) {
            throw new AssertionError("a request got a second outcome");
        }
    }

    boolean answered() {
        return outcomes.get() > 0;
    }
}
