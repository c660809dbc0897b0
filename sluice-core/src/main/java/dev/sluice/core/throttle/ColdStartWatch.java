package dev.sluice.core.throttle;

import dev.sluice.core.NanoClock;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Times a revision's cold starts: from the first request queued while it had no routable pod
 * to the first pod becoming routable. Each one goes to a sink (a histogram) and is kept as the
 * last for the control API.
 *
 * <h2>Implementation notes</h2>
 * Request threads call {@link #queuedWithNoPod()}, many at once at the start of a burst: the
 * first CAS of {@link #startedAt} from {@link #IDLE} wins and later ones see a start already
 * set (one volatile read, no write). The writer calls {@link #podsRoutable()}, which swaps the
 * start back to {@code IDLE} and records the interval; a swap that finds {@code IDLE} records
 * nothing (pods came back with no request waiting). A request that read "no pod" just before
 * the writer published one may set a start after the writer's swap: {@code routable} is read
 * again after the CAS, and a start made stale that way is withdrawn, so it cannot linger and
 * be charged to a later, unrelated cold start.
 */
public final class ColdStartWatch implements ZeroPodListener {

    private static final long IDLE = Long.MIN_VALUE;
    private static final long NONE_YET = -1;

    private final NanoClock clock;
    private final RoutablePods routable;
    private final LongConsumer sink;
    private final AtomicLong startedAt = new AtomicLong(IDLE);
    private volatile long lastNanos = NONE_YET;

    /** How many pods are routable now. */
    @FunctionalInterface
    public interface RoutablePods {
        int count();
    }

    /**
     * @param routable where the watch re-reads the routable pods ({@link RevisionThrottler#routablePods})
     * @param sink     receives each cold start's length in nanoseconds, on the writer thread
     */
    public ColdStartWatch(NanoClock clock, RoutablePods routable, LongConsumer sink) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.routable = Objects.requireNonNull(routable, "routable");
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    @Override
    public void queuedWithNoPod() {
        if (startedAt.get() != IDLE) {
            return;
        }
        long now = clock.nanoTime();
        if (now == IDLE) {
            now++;
        }
        if (startedAt.compareAndSet(IDLE, now) && routable.count() > 0) {
            startedAt.compareAndSet(now, IDLE);
        }
    }

    @Override
    public void podsRoutable() {
        long start = startedAt.getAndSet(IDLE);
        if (start == IDLE) {
            return;
        }
        long nanos = Math.max(0, clock.nanoTime() - start);
        lastNanos = nanos;
        sink.accept(nanos);
    }

    /** The last cold start's length in nanoseconds, or -1 if there has been none. */
    public long lastNanos() {
        return lastNanos;
    }

    /** Whether a cold start is under way: a request waits and no pod has become routable yet. */
    public boolean inProgress() {
        return startedAt.get() != IDLE;
    }
}
