package dev.sluice.kubernetes;

import dev.sluice.core.RevisionId;

/**
 * How one revision's discovery is doing.
 *
 * @param synced   the first full list has arrived (until then the revision has no pods from here)
 * @param watching the watch is open now; false while it is being re-established, and then
 *                 Sluice routes on the last view it had
 * @param failures watches lost and list/watch attempts failed since start (each retried with backoff)
 * @param pods     pods in the last view
 */
public record WatchStatus(RevisionId revision, ServiceRef service, boolean synced, boolean watching, long failures,
        int pods) {

    /** Synced and watching: the view is current. */
    public boolean healthy() {
        return synced && watching;
    }

    /** One line for {@code /readyz} and logs. */
    public String describe() {
        String state = !synced ? "waiting for the first list" : watching ? "watching" : "watch down, routing on the last known view";
        return revision + " <- service " + service + ": " + state + ", " + pods + " pod(s), " + failures + " failure(s)";
    }
}
