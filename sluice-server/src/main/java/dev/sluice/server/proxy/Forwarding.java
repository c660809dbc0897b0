package dev.sluice.server.proxy;

import dev.sluice.server.metrics.Outcome;
import java.net.SocketAddress;

/**
 * What the proxy needs from the replica set when it forwards a request to the revision's owner:
 * the line that marks the request as forwarded, whether a marked request really came from a
 * replica, and where forwards are counted. Implemented by the cluster; the proxy calls it and
 * never the other way round. {@link #NONE} when Sluice runs alone.
 */
public interface Forwarding {

    /** The header line added to a forwarded request's head, {@code sluice-forwarded: <self>\r\n}. */
    byte[] markLine();

    /**
     * Whether a request carrying {@code Sluice-Forwarded} from {@code remote} is trusted as a
     * replica's forward (and so served here even when this replica does not own its revision).
     * A client cannot slip past its revision's owner by sending the header itself.
     */
    boolean fromReplica(SocketAddress remote);

    /** A request for a revision this replica owns arrived forwarded by another replica. */
    void received();

    /**
     * Where a request that replicas forwarded here goes, when this replica does not own its
     * revision in its own view ({@code route.owner().forwardTo()} is not null): the next
     * replica's proxy address, or null to serve it here. Read when the forward arrives and again
     * when it is admitted, like every request's owner.
     *
     * @param hops   how many replicas forwarded it in turn (its {@code Sluice-Forwarded} lines)
     * @param sender the id the last of them wrote, or null
     */
    String target(Route route, int hops, String sender);

    /** A forward ended: answered {@code code} ({@code outcome} {@code PROXIED} when the owner answered). */
    void forwarded(String owner, Outcome outcome, int code);

    /**
     * The owner could not be reached (its connect failed): nothing of the request was sent. The
     * route's owner is read again right after, so a replica set that now knows better re-routes.
     */
    void ownerUnreachable(String ownerAddress);

    Forwarding NONE = new Forwarding() {
        @Override
        public byte[] markLine() {
            return new byte[0];
        }

        @Override
        public boolean fromReplica(SocketAddress remote) {
            return false;
        }

        @Override
        public void received() {
        }

        @Override
        public String target(Route route, int hops, String sender) {
            return null;
        }

        @Override
        public void forwarded(String owner, Outcome outcome, int code) {
        }

        @Override
        public void ownerUnreachable(String ownerAddress) {
        }
    };
}
