package dev.sluice.core.throttle;

import java.util.Objects;

/**
 * Hears of a revision's edges at zero pods, for scale from zero: a request queued while no pod
 * is routable (an autoscaler must start one) and the first pod becoming routable after none.
 * Set on a {@link RevisionThrottler} with {@link RevisionThrottler#listen}.
 *
 * <p>{@link #queuedWithNoPod()} runs on the request's thread, inside admission: it must be
 * quick and must not block. {@link #podsRoutable()} runs on the revision's writer thread.
 * Either may be called when it no longer holds (a pod arrived in between): listeners treat
 * them as hints to re-read, not as a count.
 */
public interface ZeroPodListener {

    /** Hears nothing. */
    ZeroPodListener NONE = new ZeroPodListener() {
        @Override
        public void queuedWithNoPod() {
        }

        @Override
        public void podsRoutable() {
        }
    };

    /** A request was queued while the revision had no routable pod. Request thread. */
    void queuedWithNoPod();

    /** The revision's routable pods went from none to some. Writer thread. */
    void podsRoutable();

    /** Both listeners, {@code first} first. */
    static ZeroPodListener both(ZeroPodListener first, ZeroPodListener second) {
        Objects.requireNonNull(first, "first");
        Objects.requireNonNull(second, "second");
        return new ZeroPodListener() {
            @Override
            public void queuedWithNoPod() {
                first.queuedWithNoPod();
                second.queuedWithNoPod();
            }

            @Override
            public void podsRoutable() {
                first.podsRoutable();
                second.podsRoutable();
            }
        };
    }
}
