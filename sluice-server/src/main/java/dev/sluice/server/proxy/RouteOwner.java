package dev.sluice.server.proxy;

/**
 * Which Sluice replica owns a revision, as the proxy reads it per request: the owner's proxy
 * address to forward to, or null when this replica serves the revision itself (it owns it, the
 * revision has no limit to share, or no other replica is live).
 *
 * <h2>Implementation notes</h2>
 * Written by the cluster's ownership table (one thread at a time, under its lock) whenever the
 * live replica set or the revisions change; read by every event loop with one volatile read.
 * The owner's id and address are one immutable pair behind that read, so a reader that needs
 * both (the forwarding rule compares the id with a forward's sender) never pairs an old id
 * with a new address.
 */
public final class RouteOwner {

    /** The owner's id (this replica's own when it serves the revision, null before the first view) and where to forward. */
    public record Target(String ownerId, String forwardTo) {
    }

    private static final Target NONE = new Target(null, null);

    private volatile Target target = NONE;

    /** The owner's proxy {@code host:port}, or null when this replica serves the revision. */
    public String forwardTo() {
        return target.forwardTo;
    }

    /** The owning replica's id (this replica's own when it serves the revision), or null before the first view. */
    public String ownerId() {
        return target.ownerId;
    }

    /** The owner's id and address, read together. */
    public Target target() {
        return target;
    }

    /** Ownership table only. */
    public void set(String ownerId, String forwardTo) {
        this.target = ownerId == null && forwardTo == null ? NONE : new Target(ownerId, forwardTo);
    }
}
