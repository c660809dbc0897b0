package dev.sluice.server.proxy;

import dev.sluice.core.throttle.ZeroPodListener;
import java.util.Objects;

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
 * with a new address. {@link #forwardingAtZeroPods} runs on the request's event loop and only
 * calls the listener, which must not block.
 */
public final class RouteOwner {

    /** The owner's id (this replica's own when it serves the revision, null before the first view) and where to forward. */
    public record Target(String ownerId, String forwardTo) {
    }

    private static final Target NONE = new Target(null, null);

    private final ZeroPodListener forwardedAtZero;
    private volatile Target target = NONE;

    /** An owner cell with no one to tell of requests forwarded at zero pods. */
    public RouteOwner() {
        this(ZeroPodListener.NONE);
    }

    /**
     * @param forwardedAtZero told of each request this replica forwards while the revision has no
     *                        routable pod (the scaler's signal, not the cold-start watch: the owner
     *                        times the cold start where the request queues)
     */
    public RouteOwner(ZeroPodListener forwardedAtZero) {
        this.forwardedAtZero = Objects.requireNonNull(forwardedAtZero, "forwardedAtZero");
    }

    /**
     * A request is forwarded to the owner while {@code routablePods} pods are routable here. Pods
     * are the same on every replica, so at zero the owner will queue it at zero pods: this
     * replica's scaler streams hear of it now instead of after the owner's notice.
     */
    void forwardingAtZeroPods(int routablePods) {
        if (routablePods == 0) {
            forwardedAtZero.queuedWithNoPod();
        }
    }

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
