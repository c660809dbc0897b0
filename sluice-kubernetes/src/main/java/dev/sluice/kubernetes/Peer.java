package dev.sluice.kubernetes;

import java.util.Objects;

/**
 * One live Sluice replica, as its control Service's EndpointSlices list it.
 *
 * @param id   the replica's pod UID (the endpoint's {@code targetRef}); what the replica's own
 *             {@code cluster.self} is (the downward API's {@code metadata.uid}). An endpoint
 *             without a pod reference (a hand-made slice) is identified by its address instead.
 * @param host the pod's IP literal, canonical, without brackets (IPv4 when it has both)
 * @param port the control Service's port on that pod
 */
public record Peer(String id, String host, int port) {

    public Peer {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("a peer's id must not be blank");
        }
        String canonical = IpLiterals.canonical(host);
        if (canonical == null) {
            throw new IllegalArgumentException("peer " + id + ": '" + host + "' is not an IP address");
        }
        host = canonical;
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("peer " + id + ": port " + port + " is not in 1..65535");
        }
    }

    /** {@code host:port}, an IPv6 host in brackets: what a client connects to. */
    public String address() {
        return SliceTranslator.hostPort(host, port);
    }

    @Override
    public String toString() {
        return id + "@" + address();
    }
}
