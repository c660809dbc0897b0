package dev.sluice.server.cluster;

import dev.sluice.server.proxy.RouteOwner;

/**
 * What a replica does with a forward for a revision it does not own in its own view: the one
 * rule that keeps a single replica admitting onto a revision's pods while views disagree (a
 * drain, a join, the instant before every replica has read the same membership).
 * <ul>
 * <li>{@link Decision#HEIR}: the sender is the replica this one believes owns the revision,
 *     and this one is not leaving. The owner itself has handed the request on, so it no longer
 *     admits (it drains, or sees a newer view): this replica serves it, and first holds every
 *     pod for the sender's requests until the sender reports them
 *     ({@link HandoffLedger#gained}).</li>
 * <li>{@link Decision#SERVE}: the request has been forwarded {@link #MAX_HOPS} times already.
 *     Views that disagree in a cycle (two replicas draining at once, each the other's owner)
 *     end here, served where they stand, and the handoff reports make the owner hold for
 *     it within a tick.</li>
 * <li>{@link Decision#FORWARD}: otherwise, on to the owner this replica sees — also when
 *     this replica drains: it admits nothing new, so the owner's holds, set from its reports,
 *     cover everything it still runs.</li>
 * </ul>
 * A client's request (no hop) goes to the owner as it always does; this rule is for marked
 * requests from replicas only.
 *
 * <h2>Implementation notes</h2>
 * A pure function of its arguments; the caller reads the owner cell once ({@link RouteOwner#target}).
 */
final class ForwardRule {

    /** Forwards a request may take before a replica serves it whatever it sees. */
    static final int MAX_HOPS = 3;

    enum Decision {
        /** Served here as the owner's heir: hold the pods for the sender's requests first. */
        HEIR,
        /** Served here: the hop limit is reached. */
        SERVE,
        /** Forwarded to the owner this replica sees. */
        FORWARD
    }

    private ForwardRule() {
    }

    /**
     * @param owner   this replica's view of the revision's owner (its id and address; the address is not null)
     * @param hops    how many replicas forwarded the request in turn (at least 1)
     * @param sender  the id of the last of them, or null if it cannot be read
     * @param leaving whether this replica drains (it has left its own view)
     */
    static Decision decide(RouteOwner.Target owner, int hops, String sender, boolean leaving) {
        if (!leaving && sender != null && sender.equals(owner.ownerId())) {
            return Decision.HEIR;
        }
        if (hops >= MAX_HOPS) {
            return Decision.SERVE;
        }
        return Decision.FORWARD;
    }
}
