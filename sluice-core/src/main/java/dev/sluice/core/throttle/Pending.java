package dev.sluice.core.throttle;

/**
 * A request's place in a revision's queue, returned by {@link RevisionThrottler#acquire}.
 */
public interface Pending {

    /** Returned when the outcome was delivered before {@code acquire} returned. */
    Pending NONE = () -> false;

    /**
     * Leaves the queue (the client went away, or the caller's own timer fired). No callback
     * follows a successful cancel, and no token or slot is held.
     *
     * @return true if the request was still waiting and is now gone; false if its outcome was
     *         already decided — then the listener has been or is being called, and a lease it
     *         receives must still be released
     */
    boolean cancel();
}
