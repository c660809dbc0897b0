package dev.sluice.server.proxy;

/**
 * Which Sluice replica owns a revision, as the proxy reads it per request: the owner's proxy
 * address to forward to, or null when this replica serves the revision itself (it owns it, the
 * revision has no limit to share, or no other replica is live).
 *
 * <h2>Implementation notes</h2>
 * Written by the cluster's ownership table (one thread at a time, under its lock) whenever the
 * live replica set or the revisions change; read by every event loop with one volatile read of
 * {@link #forwardTo}. The id and the address are two fields, so a reader may pair an old id
 * with a new address for an instant: only {@code /v1/revisions} reads the id, and a forward
 * needs only the address.
 */
public final class RouteOwner {

    private volatile String forwardTo;
    private volatile String ownerId;

    /** The owner's proxy {@code host:port}, or null when this replica serves the revision. */
    public String forwardTo() {
        return forwardTo;
    }

    /** The owning replica's id (this replica's own when it serves the revision), or null before the first view. */
    public String ownerId() {
        return ownerId;
    }

    /** Ownership table only. */
    public void set(String ownerId, String forwardTo) {
        this.ownerId = ownerId;
        this.forwardTo = forwardTo;
    }
}
